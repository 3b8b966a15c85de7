import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import {
  DEFAULT_DATABASE_URL,
  dropDatabase,
  findWorkspaceRoot,
  migrateDatabase,
  withDatabaseName,
} from '@mta/db';

/** The PostgreSQL server tests use; each test file gets its own database on it. */
export const TEST_DATABASE_SERVER_URL = process.env['TEST_DATABASE_URL'] ?? DEFAULT_DATABASE_URL;

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A hash of every migration (name and SQL): a new or changed migration makes a new template. */
function migrationsFingerprint(): string {
  const dir = path.join(findWorkspaceRoot(), 'libs/db/prisma/migrations');
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort()) {
    if (!/^\d{14}_/.test(name)) continue;
    hash.update(name).update(readFileSync(path.join(dir, name, 'migration.sql')));
  }
  return hash.digest('hex').slice(0, 16);
}

async function onServer<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: withDatabaseName(TEST_DATABASE_SERVER_URL, 'postgres') });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * The database every test database is copied from: migrated once by the real
 * `prisma migrate deploy` (under a private name, then renamed, so that no test ever copies a
 * half-migrated one; one process builds it while the others wait on an advisory lock), and
 * kept on the test server for the next runs while the migrations stay the same. A copy takes a
 * fraction of a second; a migration run, seconds of CPU.
 */
async function template(): Promise<string> {
  const name = `mta_test_template_${migrationsFingerprint()}`;
  const exists = (client: pg.Client) =>
    client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]).then((r) => (r.rowCount ?? 0) > 0);
  if (await onServer(exists)) return name;
  // One builder at a time (test files run in parallel processes): the others wait, then find it.
  await onServer(async (client) => {
    await client.query("SELECT pg_advisory_lock(hashtext('mta_test_template'))");
    if (await exists(client)) return;
    const building = `${name}_${randomBytes(4).toString('hex')}`;
    await migrateDatabase(withDatabaseName(TEST_DATABASE_SERVER_URL, building));
    await client.query(`ALTER DATABASE ${quote(building)} RENAME TO ${quote(name)}`);
  });
  return name;
}

let templateName: Promise<string> | undefined;

/**
 * A fresh, uniquely named database with every migration applied, for one test file: a copy of
 * a template database that the real `prisma migrate deploy` migrated (see `template`).
 * `drop()` it in afterAll.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  templateName ??= template().catch((error: unknown) => {
    templateName = undefined;
    throw error;
  });
  const source = await templateName;
  const name = `mta_test_${randomBytes(6).toString('hex')}`;
  await onServer((client) => client.query(`CREATE DATABASE ${quote(name)} TEMPLATE ${quote(source)}`));
  const url = withDatabaseName(TEST_DATABASE_SERVER_URL, name);
  return { url, drop: () => dropDatabase(url) };
}
