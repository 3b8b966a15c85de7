// PostgreSQL databases for a bench run: created and migrated (`npm run db:migrate`), copied from
// a migrated template, queried, dropped. Local server, trust authentication, role `postgres`.
import { requireRoot } from './paths.mjs';
import { run } from './processes.mjs';

const SERVER = 'postgresql://postgres@127.0.0.1:5432';

export const databaseUrl = (name) => `${SERVER}/${name}`;

/** Runs `fn(client)` with a pg client connected to database `name`, then disconnects. */
export async function withDatabase(name, fn) {
  const pg = requireRoot('pg');
  const client = new pg.Client({ connectionString: databaseUrl(name) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates database `name` with the schema, by running the migrations (Prisma creates it). */
export async function migrateDatabase(name) {
  const migrated = await run('npm', ['run', 'db:migrate'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl(name),
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
      CHECKPOINT_DISABLE: '1',
    },
  });
  if (migrated.code !== 0) throw new Error(`db:migrate failed: ${migrated.stdout}${migrated.stderr}`);
}

/** Creates database `name` as a copy of `template` (which must have no open connections). */
export async function copyDatabase(template, name) {
  await withDatabase('postgres', (c) => c.query(`create database "${name}" template "${template}"`));
}

export async function dropDatabase(name) {
  await withDatabase('postgres', (c) => c.query(`drop database if exists "${name}" with (force)`));
}

/**
 * Transactions committed and rolled back in database `name` so far (pg_stat_database, read from
 * the `postgres` database so that the reading adds none). Statements outside an explicit
 * transaction are one transaction each, so this counts the round trips that commit.
 * PostgreSQL 15 backends publish their counts at most once a second while busy and within 10 s
 * once idle: read it after `settleMs` of quiet.
 */
export async function transactionCount(name, settleMs = 11_000) {
  await new Promise((r) => setTimeout(r, settleMs));
  return withDatabase('postgres', async (c) =>
    Number(
      (await c.query('select xact_commit + xact_rollback n from pg_stat_database where datname = $1', [name]))
        .rows[0]?.n ?? NaN,
    ),
  );
}
