import { readdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { findWorkspaceRoot, migrateDatabase } from '@mta/db';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from './test-database';

async function tables(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ t: string }>(
      `select table_name as t from information_schema.tables where table_schema = 'public'`,
    );
    return rows.map((r) => r.t);
  } finally {
    await client.end();
  }
}

describe('createTestDatabase', () => {
  it('gives each caller its own migrated database and drops it afterwards', async () => {
    const [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    expect(a.url).not.toBe(b.url);
    expect(await tables(a.url)).toEqual(
      expect.arrayContaining(['_prisma_migrations', 'messages', 'recipients', 'domains']),
    );
    await a.drop();
    await b.drop();
    await expect(tables(a.url)).rejects.toThrow(/does not exist/);
  });
});

describe('the template test databases are copied from', () => {
  it('is migrated like a new database: every migration recorded, nothing pending', async () => {
    const db = await createTestDatabase();
    try {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: string }>(
          'SELECT count(*) AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
        );
        const migrations = readdirSync(path.join(findWorkspaceRoot(), 'libs/db/prisma/migrations')).filter(
          (n) => /^\d{14}_/.test(n),
        );
        expect(Number(rows[0]?.n)).toBe(migrations.length);
      } finally {
        await client.end();
      }
      // And Prisma itself finds nothing to apply on the copy.
      expect((await migrateDatabase(db.url)).applied).toEqual([]);
    } finally {
      await db.drop();
    }
  });
});
