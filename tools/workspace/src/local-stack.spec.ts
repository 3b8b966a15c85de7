import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { variables } from '@mta/config';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../../..');

describe('local stack and documentation', () => {
  it('docker-compose.yml is valid (checked by docker-compose itself, no daemon needed)', () => {
    const out = execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
      cwd: root,
      env: { ...process.env, ADMIN_TOKEN: 'x'.repeat(32) },
      encoding: 'utf8',
    });
    for (const service of [
      'redis',
      'postgres',
      'migrate',
      'mx',
      'submission',
      'queue',
      'delivery',
      'policy',
      'admin-api',
    ]) {
      expect(out).toMatch(new RegExp(`^  ${service}:`, 'm'));
    }
    expect(out).toContain('noeviction');
    expect(out).toMatch(/published: 25\b|- 25:25/);
  });

  it('refuses to run the API without an ADMIN_TOKEN', () => {
    const env = { ...process.env };
    delete env['ADMIN_TOKEN'];
    expect(() =>
      execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
        cwd: root,
        env,
        stdio: 'pipe',
      }),
    ).toThrow(/ADMIN_TOKEN/);
  });

  it('documents every configuration variable in the README table, and only those', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const documented = [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(variables).sort());
  });

  it("README's apt-get line installs every Debian package .ci/run installs", () => {
    const ci = readFileSync(path.join(root, '.ci/run'), 'utf8');
    const list = /DEBIAN_PACKAGES=\(([^)]*)\)/.exec(ci)?.[1] ?? '';
    const packages = list.replace(/#[^\n]*/g, '').split(/\s+/).filter(Boolean);
    expect(packages.length).toBeGreaterThan(10);
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const apt = /`apt-get install ([^`]+)`/.exec(readme)?.[1]?.split(/\s+/) ?? [];
    expect(packages.filter((p) => !apt.includes(p))).toEqual([]);
  });

  it('every relative link of every Markdown file resolves inside the repository', () => {
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], {
      cwd: root,
      encoding: 'utf8',
    })
      .split('\n')
      .filter((f) => f && existsSync(path.join(root, f)));
    const broken: string[] = [];
    for (const file of files) {
      const text = readFileSync(path.join(root, file), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (!target || /^[a-z]+:|^#/.test(target)) continue;
        const resolved = path.resolve(root, path.dirname(file), target.split('#')[0] ?? '');
        if (!resolved.startsWith(`${root}${path.sep}`) || !existsSync(resolved)) broken.push(`${file}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
