/**
 * Helpers for this library's integration tests (real PostgreSQL at DATABASE_URL, default
 * 127.0.0.1:5432). Not exported from the library.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, expect } from 'vitest';
import { DEFAULT_DATABASE_URL } from '../prisma/offline-engine';
import { dropDatabase, findWorkspaceRoot, withDatabaseName } from './migrate';

/**
 * The server of DATABASE_URL, on its maintenance database `postgres`: the catalog queries of
 * these tests must not depend on the application's database existing (a fresh machine has none).
 */
export const serverUrl = withDatabaseName(process.env.DATABASE_URL || DEFAULT_DATABASE_URL, 'postgres');
export const root = findWorkspaceRoot();
export const migrationsDir = path.join(root, 'libs/db/prisma/migrations');
export const migrationNames = readdirSync(migrationsDir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

/** One query on a short-lived connection of its own. */
export async function sql<T extends pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export const databaseName = (url: string) => decodeURIComponent(new URL(url).pathname.slice(1));

/**
 * Call at the top of a spec file: returns a function giving URLs of new, uniquely named
 * databases (not created yet), all dropped after the file's tests.
 */
export function freshDatabases(): () => string {
  const prefix = `mta_test_db_${randomUUID().slice(0, 8)}_`;
  let n = 0;
  const created: string[] = [];
  afterAll(async () => {
    for (const url of created) await dropDatabase(url);
    const left = await sql(serverUrl, `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, [
      prefix,
    ]);
    expect(left).toEqual([]);
  });
  return () => {
    const url = withDatabaseName(serverUrl, `${prefix}${n++}`);
    created.push(url);
    return url;
  };
}
