/**
 * Per-destination concurrency shared by every delivery worker (Postfix's
 * `default_destination_concurrency_limit`, but across pods): a counting semaphore in Redis
 * whose slots are leases that expire, so a killed worker's slot comes back by itself.
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
  /** Lease lifetime without renewal (default 60 s). Hold it with `renew` every third of it. */
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

export class RedisDestinationLimiter implements DestinationLimiter {
  private readonly limit: number;
  readonly leaseMs: number;

  constructor(private readonly options: RedisLimiterOptions) {
    this.limit = options.limit ?? 20;
    this.leaseMs = options.leaseMs ?? 60_000;
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
    return {
      id,
      destination,
      renew: async () => !released && (await redis.eval(RENEW, 1, key, id, this.leaseMs)) === 1,
      release: async () => {
        if (released) return;
        released = true;
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
