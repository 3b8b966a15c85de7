import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
});
