import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';
import { ensureDatabase, redact } from '../prisma/offline-engine';

const run = promisify(execFile);

export interface MigrateOptions {
  /** The workspace root (where prisma.config.ts is). Found from this file or the cwd if omitted. */
  workspaceRoot?: string;
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
}

export interface MigrateResult {
  /** Names of the migrations this run applied (empty if the database was up to date). */
  applied: string[];
  /** What the Prisma CLI printed. */
  output: string;
  durationMs: number;
}

/**
 * Applies the migrations in libs/db/prisma/migrations to `databaseUrl`, exactly as
 * `npm run db:migrate` does: it runs `prisma migrate deploy` (same config, same engine, same
 * `_prisma_migrations` bookkeeping) in a child process. Creates the database if it is missing.
 * Idempotent. Throws with the CLI's output if a migration fails.
 */
export async function migrateDatabase(
  databaseUrl: string,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  const root = options.workspaceRoot ?? findWorkspaceRoot();
  const cli = createRequire(path.join(root, 'package.json')).resolve('prisma/build/index.js');
  const started = performance.now();
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, 'migrate', 'deploy'], {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
        CHECKPOINT_DISABLE: '1',
        NO_COLOR: '1',
        FORCE_COLOR: '0',
      },
      timeout: options.timeoutMs ?? 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const output = `${stdout}${stderr}`;
    return {
      applied: appliedMigrations(stdout),
      output,
      durationMs: Math.round(performance.now() - started),
    };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `prisma migrate deploy failed for ${redact(databaseUrl)}: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`,
    );
  }
}

function appliedMigrations(stdout: string): string[] {
  const marker = stdout.indexOf('have been applied');
  if (marker < 0) return [];
  return [...stdout.slice(marker).matchAll(/└─ (\d{14}_[^/\s]+)\//g)].map((m) => m[1] as string);
}

/** The directory holding prisma.config.ts and libs/db/prisma, searched upwards. */
export function findWorkspaceRoot(): string {
  const starts = [typeof __dirname === 'string' ? __dirname : undefined, process.cwd()];
  for (const start of starts) {
    for (let dir = start; dir;) {
      if (
        existsSync(path.join(dir, 'prisma.config.ts')) &&
        existsSync(path.join(dir, 'libs/db/prisma/schema.prisma'))
      ) {
        return dir;
      }
      const parent = path.dirname(dir);
      dir = parent === dir ? undefined : parent;
    }
  }
  throw new Error('Cannot find the workspace root (prisma.config.ts); pass options.workspaceRoot');
}

/** `databaseUrl` with its database name replaced by `database`. */
export function withDatabaseName(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** Creates the database named in the URL unless it exists; true if it was created. */
export const createDatabase: (databaseUrl: string) => Promise<boolean> = ensureDatabase;

/** Drops the database named in the URL if it exists, ending its other sessions first. */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  const { database, ...server } = parseIntoClientConfig(databaseUrl);
  if (!database) throw new Error(`No database name in ${redact(databaseUrl)}`);
  const client = new pg.Client({ ...server, database: 'postgres' } as pg.ClientConfig);
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${database.replace(/"/g, '""')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
