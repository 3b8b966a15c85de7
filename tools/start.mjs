#!/usr/bin/env node
// `npm start`: builds all-in-one, checks the configuration, applies migrations, then runs every
// module in one process against the local Redis and PostgreSQL. Development defaults apply
// (NODE_ENV=development: 127.0.0.1 on ports 2525/2587/2465/8080) unless the environment says
// otherwise. Build and migration output is shown only when they fail.
import { spawn, spawnSync } from 'node:child_process';

const env = { ...process.env, NODE_ENV: process.env.NODE_ENV || 'development', NX_DAEMON: 'false' };
const main = 'dist/apps/all-in-one/main.js';

function step(what, command, args) {
  const result = spawnSync(command, args, { env, encoding: 'utf8' });
  if (result.status !== 0) {
    process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}npm start: ${what} failed\n`);
    process.exit(result.status ?? 1);
  }
}

step('build', 'npx', ['nx', 'run', 'all-in-one:build', '--outputStyle=static']);
// A bad variable stops here with one line naming it, before anything touches a database.
const check = spawnSync(process.execPath, [main, '--check-config'], { env, stdio: 'inherit' });
if (check.status !== 0) process.exit(check.status ?? 1);
step('database migration', 'npm', ['run', '--silent', 'db:migrate']);

const child = spawn(process.execPath, ['--enable-source-maps', main], { env, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
