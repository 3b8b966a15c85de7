#!/usr/bin/env node
// `npm run db:migrate` (and `npm start`, and the image's `migrate`): `prisma migrate deploy`,
// with what it prints reduced to what an operator needs. On success one line: which database,
// and what was applied. On failure Prisma's own report, without the lines that are noise in
// this setup: the banner lines (config, schema and datasource loaded), the warning that the
// schema's datasource `url` is unused with a driver adapter (Prisma 6 requires the `url`, see
// libs/db/README.md), and `Error: External error id#0`, which only repeats that the adapter
// failed after offline-engine.ts has said why ("Cannot connect to ...: ...").
// Exit code: Prisma's.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = createRequire(path.join(root, 'package.json')).resolve('prisma/build/index.js');

const NOISE = [
  /^Loaded Prisma config from /,
  /^Prisma config detected, skipping environment variable loading/,
  /^Prisma schema loaded from /,
  /^Datasource "[^"]+": /,
  /^Environment variables loaded from /,
];
const UNUSED_URL_WARNING = /^WARNING: Your schema specifies the following datasource properties[\s\S]*?avoid confusion[^\n]*\n/m;

/** Prisma's output without the noise (see above). */
export function quiet(output) {
  let text = output.replace(UNUSED_URL_WARNING, '');
  if (/^Cannot connect to /m.test(text)) text = text.replace(/^Error: External error id#\d+\n?/m, '');
  const lines = text.split('\n').filter((line) => !NOISE.some((re) => re.test(line)));
  return lines.join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

/** One line for a successful run: the database, created or not, and the migrations applied. */
export function summary(output) {
  const database = /Datasource "[^"]+": PostgreSQL database "([^"]+)"/.exec(output)?.[1] ?? 'database';
  const created = /^PostgreSQL database \S+ created at (\S+)/m.exec(output);
  const applied = [...output.matchAll(/└─ (\d{14}_[^/\s]+)\//g)].map((m) => m[1]);
  const found = /^(\d+) migrations? found/m.exec(output)?.[1];
  const state = applied.length > 0 ? `${applied.length} migration(s) applied, ${found ?? '?'} in all` : `up to date (${found ?? '?'} migrations)`;
  return `${created ? `created database ${database} at ${created[1]}; ` : `database ${database}: `}${state}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const run = spawnSync(process.execPath, [cli, 'migrate', 'deploy', '--schema', 'libs/db/prisma/schema.prisma'], {
    cwd: root,
    env: { ...process.env, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
    encoding: 'utf8',
  });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  if (run.status === 0) {
    process.stdout.write(`${summary(output)}\n`);
  } else {
    process.stderr.write(`${quiet(output) || run.error?.message || 'prisma migrate deploy failed'}\n`);
    process.exit(run.status ?? 1);
  }
}
