import pg from 'pg';
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
