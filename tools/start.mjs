#!/usr/bin/env node
// `npm start`: installs what is missing (`npm ci` when node_modules is absent or stale), builds
// all-in-one, checks the configuration, finds or starts PostgreSQL and Redis, applies the
// migrations, then runs all-in-one, which supervises one process per service (mx, submission,
// queue, policy, admin-api, a delivery worker per core; libs/supervisor). Development defaults apply
// (NODE_ENV=development: 127.0.0.1 on ports 2525/2587/2465/8080) unless the environment says
// otherwise. Build and migration output is shown only when they fail.
//
// In development, where DATABASE_URL (REDIS_URL) is unset and nothing answers on the default
// address, an embedded PostgreSQL (redis-server) is started with its data under ./tmp/, and
// stopped after the MTA; an explicit URL is always used as it is. Where ADMIN_TOKEN is unset, a
// token is made once and kept in ./tmp/admin-token. When the MTA is ready, one block says where
// everything is and what to run next (tools/start/banner.mjs).
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureInstalled } from './start/install.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const env = { ...process.env, NODE_ENV: process.env.NODE_ENV || 'development', NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };
const development = env.NODE_ENV === 'development';
const main = 'dist/apps/all-in-one/main.js';
const say = (line) => process.stderr.write(`npm start: ${line}\n`);

function fail(line, code = 1) {
  say(line);
  process.exit(code);
}

function step(what, command, args) {
  const result = spawnSync(command, args, { env, encoding: 'utf8' });
  if (result.status !== 0) {
    process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
    fail(`${what} failed`, result.status ?? 1);
  }
  return result.stdout;
}

if (Number(process.versions.node.split('.')[0]) < 24) {
  fail(`Node.js ${process.versions.node} is too old: run \`. tools/node24.sh\` (Node 24 from the npm registry), then npm start`);
}
ensureInstalled(root, 'npm start', env);
// Imported after the install step: they need node_modules.
const { startDatastores } = await import('./start/datastores.mjs');
const { printBanner, ensureAdminToken, waitForReady } = await import('./start/banner.mjs');

step('build', 'npx', ['nx', 'run', 'all-in-one:build', '--outputStyle=static']);
// A bad variable stops here with one line naming it, before anything touches a database.
const check = spawnSync(process.execPath, [main, '--check-config', '--json'], { env, encoding: 'utf8' });
if (check.status !== 0) {
  process.stderr.write(check.stderr);
  process.exit(check.status ?? 1);
}
const { listen } = JSON.parse(check.stdout);

let stores;
try {
  stores = await startDatastores({ root, env, development, say });
} catch (error) {
  fail(error.message);
}
const token = development ? ensureAdminToken(root, env) : undefined;
const stopStores = () => Promise.all(stores.started.map((s) => s.stop()));

const migrate = spawnSync(process.execPath, ['libs/db/prisma/migrate.mjs'], { env, encoding: 'utf8' });
if (migrate.status !== 0) {
  process.stderr.write(migrate.stderr);
  await stopStores();
  fail('database migration failed', migrate.status ?? 1);
}

const child = spawn(process.execPath, ['--enable-source-maps', main], { env, stdio: 'inherit' });
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    stopping = true;
    child.kill(signal);
  });
}
child.on('exit', async (code, signal) => {
  // The MTA has drained and closed its connections: now the servers it used may stop.
  await stopStores();
  process.exit(code ?? (signal ? 1 : 0));
});
if (await waitForReady(listen.ADMIN_LISTEN, () => stopping || child.exitCode !== null)) {
  printBanner({ listen, token, stores, development, migrated: migrate.stdout.trim() });
}
