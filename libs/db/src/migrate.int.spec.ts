/** Migrations: the real Prisma CLI against real, new PostgreSQL databases. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from './migrate';
import { freshDatabases, migrationNames, migrationsDir, root, serverUrl, sql } from './spec-helpers';

const run = promisify(execFile);
const freshDatabaseUrl = freshDatabases();

describe('migrations', () => {
  const url = freshDatabaseUrl();
  let first: Awaited<ReturnType<typeof migrateDatabase>>;

  beforeAll(async () => {
    first = await migrateDatabase(url); // the database does not exist yet: created, like stock Prisma
  });

  it('applies every migration to a new database and records it as Prisma Migrate does', async () => {
    expect(migrationNames[0]).toMatch(/^\d{14}_init$/);
    expect(first.applied).toEqual(migrationNames);
    const rows = await sql<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
      rolled_back_at: Date | null;
      applied_steps_count: number;
      logs: string | null;
    }>(url, 'SELECT * FROM _prisma_migrations ORDER BY migration_name');
    expect(rows.map((r) => r.migration_name)).toEqual(migrationNames);
    for (const row of rows) {
      const script = readFileSync(path.join(migrationsDir, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(script).digest('hex'));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
  });

  it('creates the tables of the schema', async () => {
    const tables = await sql<{ table_name: string }>(
      url,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining([
        '_prisma_migrations',
        'account_send_as',
        'accounts',
        'alias_targets',
        'aliases',
        'api_tokens',
        'delivery_attempts',
        'domain_pauses',
        'domains',
        'events',
        'messages',
        'recipients',
        'suppressions',
      ]),
    );
    const dueScan = await sql<{ indexdef: string }>(
      url,
      `SELECT indexdef FROM pg_indexes WHERE tablename = 'recipients' AND indexdef LIKE '%(status, next_attempt_at)%'`,
    );
    expect(dueScan).toHaveLength(1);
  });

  it('is a no-op when run again', async () => {
    const before = await sql(url, 'SELECT id, finished_at FROM _prisma_migrations ORDER BY id');
    const again = await migrateDatabase(url);
    expect(again.applied).toEqual([]);
    expect(again.output).toContain('No pending migrations to apply');
    expect(await sql(url, 'SELECT id, finished_at FROM _prisma_migrations ORDER BY id')).toEqual(before);
  });

  it('is safe when two processes migrate the same new database at once', async () => {
    const shared = freshDatabaseUrl();
    const results = await Promise.all([migrateDatabase(shared), migrateDatabase(shared)]);
    expect(results.flatMap((r) => r.applied).sort()).toEqual(migrationNames);
    expect(await sql(shared, 'SELECT 1 FROM _prisma_migrations')).toHaveLength(migrationNames.length);
  });

  it('matches schema.prisma (no migration missing)', async () => {
    // Replays the migrations into a shadow database and diffs it with the schema: exit code 2
    // would mean someone changed schema.prisma without creating a migration.
    const cli = path.join(root, 'node_modules/prisma/build/index.js');
    const args = ['migrate', 'diff', '--from-migrations', migrationsDir, '--to-schema-datamodel'];
    const { stdout } = await run(
      process.execPath,
      [cli, ...args, 'libs/db/prisma/schema.prisma', '--exit-code'],
      {
        cwd: root,
        env: { ...process.env, DATABASE_URL: url, CHECKPOINT_DISABLE: '1' },
      },
    );
    expect(stdout).toContain('No difference detected');
    // ... and the temporary shadow database is gone again.
    expect(
      await sql(serverUrl, `SELECT 1 FROM pg_database WHERE datname LIKE 'prisma_migrate_shadow_db_%'`),
    ).toEqual([]);
  });

  it('`npm run db:migrate` creates, migrates, re-runs as a no-op, and exits on its own, in one line each', async () => {
    // "Exits on its own": the run below ends when the CLI exits; before the fix of
    // offline-engine.ts the engine's timer kept it alive (10 s, `migrate dev` up to a minute).
    const target = freshDatabaseUrl();
    const { pathname, hostname, port } = new URL(target);
    const name = pathname.slice(1);
    const env = { ...process.env, DATABASE_URL: target };
    const created = await run('npm', ['run', '--silent', 'db:migrate'], { cwd: root, env });
    expect(created.stdout).toBe(
      `created database ${name} at ${hostname}:${port || 5432}; ${migrationNames.length} migration(s) applied, ${migrationNames.length} in all\n`,
    );
    expect(created.stderr).toBe('');
    const again = await run('npm', ['run', '--silent', 'db:migrate'], { cwd: root, env });
    expect(again.stdout).toBe(`database ${name}: up to date (${migrationNames.length} migrations)\n`);
  });

  it('`npm run db:migrate` against no server: one line with the address and the cause, no Prisma noise', async () => {
    const env = { ...process.env, DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/mta' };
    const failed = await run('npm', ['run', '--silent', 'db:migrate'], { cwd: root, env }).then(
      () => undefined,
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stdout).toBe('');
    expect(failed?.stderr).toBe(
      'Cannot connect to postgresql://postgres@127.0.0.1:1/mta: connect ECONNREFUSED 127.0.0.1:1\n',
    );
  });
});
