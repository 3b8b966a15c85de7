import { randomBytes } from 'node:crypto';
import { DEFAULT_DATABASE_URL, dropDatabase, migrateDatabase, withDatabaseName } from '@mta/db';

/** The PostgreSQL server tests use; each test file gets its own database on it. */
export const TEST_DATABASE_SERVER_URL = process.env['TEST_DATABASE_URL'] ?? DEFAULT_DATABASE_URL;

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh, uniquely named database with every migration applied by the real
 * `prisma migrate deploy`, for one test file. `drop()` it in afterAll.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const url = withDatabaseName(TEST_DATABASE_SERVER_URL, `mta_test_${randomBytes(6).toString('hex')}`);
  await migrateDatabase(url);
  return { url, drop: () => dropDatabase(url) };
}
