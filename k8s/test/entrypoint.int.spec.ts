/**
 * The image's entrypoint as the pods run it: every Deployment's init container runs `migrate`
 * (k8s/README.md, "The migration"), so several start at once on a new database, against the real
 * PostgreSQL and the real Prisma CLI.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { dropDatabase, withDatabaseName } from '@mta/db';
import { TEST_DATABASE_SERVER_URL } from '@mta/testing';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './render';

const run = promisify(execFile);
const entrypoint = path.join(ROOT, 'tools/docker-entrypoint.sh');
/** The image's PATH has its node first; here, the node running the tests. */
const env = (extra: Record<string, string>) => ({
  ...process.env,
  PATH: `${path.dirname(process.execPath)}:${process.env['PATH'] ?? ''}`,
  ...extra,
});

describe('tools/docker-entrypoint.sh', () => {
  const url = withDatabaseName(TEST_DATABASE_SERVER_URL, `mta_k8s_${randomBytes(6).toString('hex')}`);
  afterAll(() => dropDatabase(url));

  it('migrate: three pods starting at once on a new database all succeed, and each migration is applied once', async () => {
    const runs = await Promise.all(
      [1, 2, 3].map(() =>
        run('sh', [entrypoint, 'migrate'], { cwd: ROOT, env: env({ DATABASE_URL: url }), timeout: 120_000 }),
      ),
    );
    // One line each (libs/db/prisma/migrate.mjs): one pod applied the migrations, the others
    // found the database up to date.
    const applied = runs.filter((r) => / migration\(s\) applied, /.test(r.stdout));
    for (const r of runs) expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(applied).toHaveLength(1);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string; distinct_names: string; unfinished: string }>(
        'SELECT count(*) AS n, count(DISTINCT migration_name) AS distinct_names, count(*) FILTER (WHERE finished_at IS NULL) AS unfinished FROM _prisma_migrations',
      );
      expect(Number(rows[0]?.n)).toBeGreaterThan(0);
      expect(rows[0]?.n).toBe(rows[0]?.distinct_names);
      expect(rows[0]?.unfinished).toBe('0');
    } finally {
      await client.end();
    }
    // A pod restarted later: nothing to do, exit 0.
    const again = await run('sh', [entrypoint, 'migrate'], {
      cwd: ROOT,
      env: env({ DATABASE_URL: url }),
      timeout: 120_000,
    });
    expect(again.stdout).toMatch(/^database mta_k8s_\w+: up to date \(\d+ migrations\)\n$/);
  });

  it('refuses an unknown command with its usage and exit code 64', async () => {
    const failed = await run('sh', [entrypoint, 'mta-nonsense'], { cwd: ROOT, env: env({}) }).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failed?.code).toBe(64);
    expect(failed?.stderr).toMatch(
      /^usage: <mx\|submission\|queue\|delivery\|policy\|admin-api\|all-in-one\|migrate>/,
    );
  });
});
