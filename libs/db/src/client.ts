import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { poolConfig } from '../prisma/offline-engine';
import { Prisma, PrismaClient } from './generated/prisma/client';

export interface CreatePrismaClientOptions {
  /**
   * Overrides for the pg pool (e.g. `max`, `application_name`). Defaults: at most 10
   * connections, 5 s to connect, idle connections closed after 10 s, and idle connections do
   * not keep the process alive.
   */
  pool?: pg.PoolConfig;
  /** Prisma's own logging to the console: `['warn']` by default (errors are thrown to the caller, who logs them); `['query']` when debugging. */
  log?: Prisma.LogLevel[];
}

/**
 * A PrismaClient on PostgreSQL at `databaseUrl`, through the pg driver adapter (no query engine
 * binary). Call `$disconnect()` when done (DbModule does it on shutdown).
 */
export function createPrismaClient(
  databaseUrl: string,
  options: CreatePrismaClientOptions = {},
): PrismaClient {
  const adapter = new PrismaPg({
    ...poolConfig(databaseUrl),
    max: 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 10_000,
    ...options.pool,
  });
  return new PrismaClient({ adapter, log: options.log ?? ['warn'] });
}

/**
 * A plain pg pool on the same database, for the few hot paths where Prisma's per-query compile
 * costs more than the work (intake's one-statement insert of a message). Same defaults as
 * createPrismaClient's pool. `end()` it when done.
 */
export function createPgPool(databaseUrl: string, options: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({
    ...poolConfig(databaseUrl),
    max: 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 10_000,
    ...options,
  });
  // An idle client that loses its server emits 'error' on the pool; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Readiness check for /readyz: `SELECT 1` with a short timeout. Resolves when the database
 * answered; rejects with the reason otherwise (the same contract as `pingRedis` of @mta/queue).
 * Takes the client or anything holding it (PrismaService).
 */
export async function pingDatabase(
  db: PrismaClient | { client: PrismaClient },
  timeoutMs = 1_000,
): Promise<void> {
  const client = 'client' in db ? db.client : db;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`postgres did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([client.$queryRaw`SELECT 1`, timeout]);
  } catch (err) {
    // Prisma's messages start with where the call was made; the last line is the reason.
    const reason = err instanceof Error ? err.message.trim().split('\n').pop() : String(err);
    throw new Error(`postgres is not reachable: ${reason}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}
