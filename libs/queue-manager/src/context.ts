import type { PrismaClient } from '@mta/db';
import type { Srs } from '@mta/mail';
import type pg from 'pg';
import type { Logger } from '@mta/observability';
import type { JobProducer } from '@mta/queue';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { QueueManagerMetrics } from './metrics';
import { resolveSchedule, type RetrySchedule } from './schedule';

/** What the queue manager needs from its host (the Nest module, or a test). */
export interface QueueManagerDeps {
  readonly db: PrismaClient;
  /** A plain pg pool on the same database, for the statements every message runs (@mta/queue-state sql/). */
  readonly pool: Pick<pg.Pool, 'query'>;
  readonly producer: JobProducer;
  /** A fail-fast client connection (`createRedisConnection(url, 'client')`): reconciler lock. */
  readonly redis: Redis;
  /** A worker connection (`createRedisConnection(url, 'worker')`) for the BullMQ workers. */
  readonly workerConnection: Redis;
  /** BullMQ key prefix (`REDIS_PREFIX`). */
  readonly prefix: string;
  readonly logger: Logger;
  /** Where the counters and gauges go (`Metrics.registry`). */
  readonly registry: Registry;
  /** Our host name: `Reporting-MTA` and the DSN's From (`MTA_HOSTNAME`). */
  readonly hostname: string;
}

export interface QueueManagerOptions {
  /** Retry schedule, expiry and delay warning; see schedule.ts. */
  readonly schedule?: Partial<RetrySchedule>;
  /**
   * Smart host (`RELAY_HOST`, e.g. `smtp.provider.net:587`): all `remote` recipients of a message
   * go in one job to destination `relay:<host>` instead of one job per recipient domain.
   */
  readonly relayHost?: string;
  /** The time, for tests. Default: `new Date()`. */
  readonly clock?: () => Date;
  /** Randomness of the jitter, for tests. Default `Math.random`. */
  readonly random?: () => number;
  /** How often the reconciler runs (also once at start). Default 30 s; 0: never by itself. */
  readonly reconcileIntervalMs?: number;
  /**
   * How often Redis is checked for lost data (redis-loss.ts); on a loss the reconciler runs at
   * once and again until it puts nothing back. Default 1 s; 0: never.
   */
  readonly redisWatchMs?: number;
  /** Messages one reconciler run looks at, at most (recipients: 5 times as many). Default 1,000. */
  readonly reconcileBatch?: number;
  /** A `received` message younger than this is left to its own `accepted` job. Default 5 s. */
  readonly receivedGraceMs?: number;
  /** How long a recipient of a paused destination waits before it is looked at again. Default 60 s. */
  readonly pauseRecheckMs?: number;
  /** RFC 3461 §4.1: warn about delays when NOTIFY was not given. Default true. */
  readonly delayWhenNotifyAbsent?: boolean;
  /** Originals up to this size come back whole in a failure DSN (RFC 3461 §4.3). Default 1 MiB. */
  readonly maxReturnSize?: number;
  /**
   * SRS (SRS_SECRET): a DSN about a forwarded copy, whose sender is one of our SRS addresses,
   * goes straight to the original sender that address stands for. Default none.
   */
  readonly srs?: Srs | null;
  /** Jobs of the `accepted` and of the `outcome` worker running at once: the most a batch can hold (batches.ts). Default 32 each. */
  readonly concurrency?: number;
}

/** The resolved options and dependencies every part shares. */
export interface Context extends QueueManagerDeps {
  readonly schedule: RetrySchedule;
  readonly relayHost?: string;
  readonly now: () => Date;
  readonly random: () => number;
  readonly reconcileIntervalMs: number;
  readonly redisWatchMs: number;
  readonly reconcileBatch: number;
  readonly receivedGraceMs: number;
  readonly pauseRecheckMs: number;
  readonly delayWhenNotifyAbsent: boolean;
  readonly maxReturnSize?: number;
  readonly concurrency: number;
  readonly srs: Srs | null;
  readonly metrics: QueueManagerMetrics;
}

export function createContext(deps: QueueManagerDeps, options: QueueManagerOptions = {}): Context {
  return {
    ...deps,
    schedule: resolveSchedule(options.schedule),
    relayHost: options.relayHost || undefined,
    now: options.clock ?? (() => new Date()),
    random: options.random ?? Math.random,
    reconcileIntervalMs: options.reconcileIntervalMs ?? 30_000,
    redisWatchMs: options.redisWatchMs ?? 1_000,
    reconcileBatch: options.reconcileBatch ?? 1_000,
    receivedGraceMs: options.receivedGraceMs ?? 5_000,
    pauseRecheckMs: options.pauseRecheckMs ?? 60_000,
    delayWhenNotifyAbsent: options.delayWhenNotifyAbsent ?? true,
    maxReturnSize: options.maxReturnSize,
    concurrency: options.concurrency ?? 32,
    srs: options.srs ?? null,
    metrics: new QueueManagerMetrics(deps.registry),
  };
}
