/**
 * Per-destination concurrency shared by every delivery worker (Postfix's
 * `default_destination_concurrency_limit`, but across pods): a counting semaphore in Redis
 * whose slots are leases that expire, so a killed worker's slot comes back by itself.
 *
 * Leases are short (6 s) and kept alive by a heartbeat of their holder (every third of the
 * lease) until released: a slot dies with its process within one lease time. With the former
 * 60 s leases, two workers killed under load held every slot of a destination for most of a
 * minute while the live workers waited.
 *
 * One sorted set per destination: member = lease id, score = expiry (ms, Redis server clock,
 * so workers with skewed clocks agree). Acquire, renew and release are Lua scripts, atomic on
 * the server: acquire first drops the expired leases, then adds one if fewer than `limit`
 * remain. The key itself expires with its last lease.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A held slot. `renew` pushes the expiry out again; false when the lease was already lost. */
export interface Lease {
  readonly id: string;
  readonly destination: string;
  /** Renews now (the lease also renews itself every `leaseMs / 3` until released). */
  renew(): Promise<boolean>;
  release(): Promise<void>;
}

export interface DestinationLimiter {
  /** How long a lease lives without renewal, when the limiter knows it. */
  readonly leaseMs?: number;
  /** The number of slots of `destination`, when the limiter knows it. */
  limitOf?(destination: string): number;
  /** A slot for `destination`, or null when all are taken. Rejects only when the store is unreachable. */
  acquire(destination: string): Promise<Lease | null>;
}

export interface RedisLimiterOptions {
  readonly redis: Redis;
  /** Key prefix, e.g. `REDIS_PREFIX` (keys are `<prefix>:delivery:slots:<destination>`). */
  readonly prefix: string;
  /** Concurrent deliveries per destination (default 20, Postfix's default). */
  readonly limit?: number;
  /** Per-destination override (e.g. a big provider that allows more, a fragile one fewer). */
  readonly limitFor?: (destination: string) => number | undefined;
  /**
   * Lease lifetime without renewal (default 6 s): how long a killed holder's slot stays taken.
   * A held lease renews itself every third of it (its heartbeat), so only an event loop stalled
   * for two thirds of it loses a live lease (then one delivery too many may run, nothing worse).
   */
  readonly leaseMs?: number;
}

// KEYS[1] slots; ARGV: lease id, lease ms, limit. Returns 1 when the lease was added.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`;

// KEYS[1] slots; ARGV: lease id, lease ms. Returns 1 when the lease was still held.
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) <= now then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`;

export const DEFAULT_LEASE_MS = 6_000;

export class RedisDestinationLimiter implements DestinationLimiter {
  private readonly limit: number;
  private readonly options: RedisLimiterOptions;
  readonly leaseMs: number;

  constructor(options: RedisLimiterOptions) {
    this.options = options;
    this.limit = options.limit ?? 20;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    if (!(this.limit >= 1) || !(this.leaseMs >= 1))
      throw new RangeError('limit and leaseMs must be positive');
  }

  limitOf(destination: string): number {
    return this.options.limitFor?.(destination) ?? this.limit;
  }

  keyOf(destination: string): string {
    return `${this.options.prefix}:delivery:slots:${destination.toLowerCase()}`;
  }

  async acquire(destination: string): Promise<Lease | null> {
    const { redis } = this.options;
    const key = this.keyOf(destination);
    const id = randomUUID();
    const limit = this.limitOf(destination);
    const ok = await redis.eval(ACQUIRE, 1, key, id, this.leaseMs, limit);
    if (ok !== 1) return null;
    let released = false;
    const renew = async (): Promise<boolean> =>
      !released && (await redis.eval(RENEW, 1, key, id, this.leaseMs)) === 1;
    // The heartbeat: a lost renewal only means one delivery too many, never an error.
    const heartbeat = setInterval(
      () => void renew().catch(() => false),
      Math.max(10, Math.floor(this.leaseMs / 3)),
    );
    heartbeat.unref();
    return {
      id,
      destination,
      renew,
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(heartbeat);
        await redis.zrem(key, id);
      },
    };
  }

  /** Leases held now (expired ones not counted), for metrics and tests. */
  async inUse(destination: string): Promise<number> {
    const key = this.keyOf(destination);
    const [sec, usec] = await this.options.redis.time();
    const now = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    return this.options.redis.zcount(key, `(${now}`, '+inf');
  }
}
