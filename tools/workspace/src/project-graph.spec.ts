import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** What `npx nx graph --file=graph.json` must show, checked on the real graph. */
const root = path.resolve(__dirname, '../../..');
/** The `layer:framework-free` libraries. */
const FRAMEWORK_FREE = ['smtp-protocol', 'smtp-server', 'smtp-client', 'mail', 'dns', 'supervisor'];
const FRAMEWORK = /^npm:(@nestjs\/|bullmq$|ioredis$|@prisma\/|prisma$|pg$)/;

interface Graph {
  graph: {
    nodes: Record<string, { type: string }>;
    dependencies: Record<string, { target: string }[]>;
  };
}

describe('project graph', () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'graph-')), 'graph.json');
  execFileSync('npx', ['nx', 'graph', `--file=${file}`], {
    cwd: root,
    env: { ...process.env, NX_DAEMON: 'false' },
    stdio: 'pipe',
  });
  const { graph } = JSON.parse(readFileSync(file, 'utf8')) as Graph;
  const apps = new Set(
    Object.entries(graph.nodes)
      .filter(([, n]) => n.type === 'app')
      .map(([name]) => name),
  );

  it('has the seven services and mtactl', () => {
    expect([...apps].sort()).toEqual([
      'admin-api',
      'all-in-one',
      'delivery',
      'mtactl',
      'mx',
      'policy',
      'queue',
      'submission',
    ]);
  });

  it('keeps mtactl free of Nest, BullMQ, Redis and Prisma: it shares only the API schemas', () => {
    const targets = (graph.dependencies['mtactl'] ?? []).map((d) => d.target);
    expect(targets).toContain('feature-admin-api');
    expect(targets.filter((t) => FRAMEWORK.test(t))).toEqual([]);
  });

  it('has no lib importing an app', () => {
    const offenders = Object.entries(graph.dependencies)
      .filter(([source]) => !apps.has(source))
      .flatMap(([source, deps]) =>
        deps.filter((d) => apps.has(d.target)).map((d) => `${source} -> ${d.target}`),
      );
    expect(offenders).toEqual([]);
  });

  it('has no smtp/*, mail, dns or supervisor lib importing Nest, BullMQ, Redis or Prisma', () => {
    const offenders = FRAMEWORK_FREE.flatMap((lib) =>
      (graph.dependencies[lib] ?? [])
        .filter((d) => FRAMEWORK.test(d.target))
        .map((d) => `${lib} -> ${d.target}`),
    );
    expect(offenders).toEqual([]);
  });

  it('lets every app reach its feature through a lib, never the other way', () => {
    expect(graph.dependencies['mx']?.map((d) => d.target)).toContain('feature-mx');
    expect(graph.dependencies['all-in-one']?.map((d) => d.target)).toEqual(
      expect.arrayContaining([
        'feature-mx',
        'feature-submission',
        'feature-queue',
        'feature-delivery',
        'feature-policy',
        'feature-admin-api',
      ]),
    );
  });
});
