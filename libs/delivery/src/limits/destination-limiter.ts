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
 *
 * A session kept open for reuse (the pool, remote/connection-pool.ts) keeps a slot too, as an
 * idle lease (member `i:<owner>:<id>`, `owner` being this limiter, one per process), because a
 * receiver counts open connections, not deliveries (KumoMTA's `connection_limit` likewise). A
 * delivery that gives its session back turns its own lease into the idle one (`Lease.idle`);
 * a second session of the same delivery gets one only below the limit, never by taking one.
 * Idle sessions never starve a delivery: an acquire that finds the destination full takes an
 * idle lease over, this process's own first (its session is at hand: `IdleSlot.takenHere`, the
 * pool hands it to that delivery), else another process's, which becomes `c:<owner>:<id>`
 * (closing, still counted): its process notices at its next idle heartbeat (a sixth of the
 * lease), closes the session and removes the member, and only then does the acquire return.
 * So the open connections to a destination, cluster-wide, stay within its limit; the one
 * exception is a slot taken over here whose session the delivery does not take (another MX
 * host of the domain), closed at its next heartbeat.
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
  /**
   * A slot for a session kept idle after this delivery: this lease itself, which is then spent
   * (the first call), else a free one; null when the destination is full.
   */
  idle(): Promise<IdleSlot | null>;
}

/** The slot of an idle pooled session; its heartbeat renews it until `release()`. */
export interface IdleSlot {
  readonly destination: string;
  /** A delivery of this process took the slot over: the session is its to take (else it is closed). */
  readonly takenHere: boolean;
  /** Aborted when the slot is gone (taken over, or expired): close the session, then `release()`. */
  readonly signal: AbortSignal;
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

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

const ADD = `
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
`;

// KEYS[1] slots; ARGV: lease id, lease ms, limit, owner. 'ok': added below the limit; 'own <m>':
// added in place of this owner's idle lease m; 'wait <c>': added in place of another owner's
// idle lease, now the closing member c (counted until its owner removes it); 'full': not added.
const ACQUIRE = `${NOW}
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
${ADD}
  return 'ok'
end
local own = 'i:' .. ARGV[4] .. ':'
local other = nil
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(m, 1, #own) == own then
    redis.call('ZREM', KEYS[1], m)
${ADD}
    return 'own ' .. m
  end
  if not other and string.sub(m, 1, 2) == 'i:' then other = m end
end
if not other then return 'full' end
local closing = 'c:' .. string.sub(other, 3)
redis.call('ZADD', KEYS[1], redis.call('ZSCORE', KEYS[1], other), closing)
redis.call('ZREM', KEYS[1], other)
${ADD}
return 'wait ' .. closing
`;

// KEYS[1] slots; ARGV: the delivery's lease id ('' when spent), idle member, lease ms, limit.
// The lease becomes the idle one; without it, an idle lease is added only below the limit.
const PARK = `${NOW}
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[2])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`;

// KEYS[1] slots; ARGV: member. Returns 1 when the member is gone (removed, or expired).
const GONE = `${NOW}
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) > now then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
`;

// KEYS[1] slots; ARGV: lease id, lease ms. Returns 1 when the lease was still held.
const RENEW = `${NOW}
local ttl = tonumber(ARGV[2])
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) <= now then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
${ADD}
return 1
`;

export const DEFAULT_LEASE_MS = 6_000;

export class RedisDestinationLimiter implements DestinationLimiter {
  private readonly limit: number;
  private readonly options: RedisLimiterOptions;
  readonly leaseMs: number;
  /** This limiter's name in idle members: a takeover prefers the acquirer's own idle sessions. */
  private readonly owner = randomUUID();
  /** This limiter's idle slots, by member, to mark one taken over by a delivery of this process. */
  private readonly idleSlots = new Map<string, { takeOver(): void }>();

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
    const reply = String(await redis.eval(ACQUIRE, 1, key, id, this.leaseMs, limit, this.owner));
    if (reply === 'full') return null;
    const lease = this.lease(key, destination, id);
    if (reply.startsWith('own ')) this.idleSlots.get(reply.slice(4))?.takeOver();
    if (reply.startsWith('wait ')) {
      try {
        await this.closed(key, reply.slice(5));
      } catch (e) {
        await lease.release().catch(() => undefined);
        throw e;
      }
    }
    return lease;
  }

  /**
   * Until the closing member is gone: its process closed the session (at its next idle
   * heartbeat), or it expired. Bounded by the lease time, plus a margin for a slow Redis.
   */
  private async closed(key: string, member: string): Promise<void> {
    const deadline = Date.now() + 2 * this.leaseMs;
    while ((await this.options.redis.eval(GONE, 1, key, member)) !== 1 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
  }

  private lease(key: string, destination: string, id: string): Lease {
    const { redis } = this.options;
    let released = false;
    let spent = false;
    const renew = async (): Promise<boolean> =>
      !released && (await redis.eval(RENEW, 1, key, id, this.leaseMs)) === 1;
    // The heartbeat: a lost renewal only means one delivery too many, never an error.
    const heartbeat = setInterval(
      () => void renew().catch(() => false),
      Math.max(10, Math.floor(this.leaseMs / 3)),
    );
    heartbeat.unref();
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      await redis.zrem(key, id);
    };
    const idle = async (): Promise<IdleSlot | null> => {
      // Sent before any later release() of the lease: one connection, commands in order.
      const own = spent || released ? '' : id;
      spent = true;
      const member = `i:${this.owner}:${randomUUID()}`;
      const parked = redis.eval(PARK, 1, key, own, member, this.leaseMs, this.limitOf(destination));
      if (own) {
        // Its member is the idle one now, or gone: release() has nothing left to remove.
        released = true;
        clearInterval(heartbeat);
      }
      try {
        return (await parked) === 1 ? this.idleSlot(key, destination, member) : null;
      } catch (e) {
        if (own) await redis.zrem(key, id).catch(() => undefined);
        throw e;
      }
    };
    return { id, destination, renew, release, idle };
  }

  /** An idle slot held by `member`, renewed every sixth of the lease until released or lost. */
  private idleSlot(key: string, destination: string, member: string): IdleSlot {
    const { redis } = this.options;
    const lost = new AbortController();
    let released = false;
    let takenHere = false;
    const lose = (): void => {
      if (!released) lost.abort();
    };
    const heartbeat = setInterval(
      () => {
        redis.eval(RENEW, 1, key, member, this.leaseMs).then(
          (ok) => ok !== 1 && lose(),
          () => undefined, // Redis away: the member expires, and the next renewal says so
        );
      },
      Math.max(10, Math.floor(this.leaseMs / 6)),
    );
    heartbeat.unref();
    this.idleSlots.set(member, { takeOver: () => (takenHere = true) });
    return {
      destination,
      signal: lost.signal,
      get takenHere() {
        return takenHere;
      },
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(heartbeat);
        this.idleSlots.delete(member);
        await redis.zrem(key, member, `c:${member.slice(2)}`);
      },
    };
  }

  /** Leases held now, idle ones included (expired ones not counted), for metrics and tests. */
  async inUse(destination: string): Promise<number> {
    const key = this.keyOf(destination);
    const [sec, usec] = await this.options.redis.time();
    const now = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    return this.options.redis.zcount(key, `(${now}`, '+inf');
  }
}
