/**
 * Messages per period per destination, shared by every delivery process: a GCRA (generic cell
 * rate algorithm, as KumoMTA's throttles and redis-cell) in one Lua script, atomic on the Redis
 * server and timed by its clock (`TIME`), so workers with skewed clocks agree.
 *
 * One key per destination holds the theoretical arrival time (TAT, µs). A message is allowed when
 * `now >= TAT - tolerance`; then TAT moves one emission interval (period / count) on. There is no
 * burst beyond one message (tolerance 0): `10/s` sends one message every 100 ms at most, so M
 * messages span at least (M - 1) × 100 ms. A refused message is told how long to wait; nothing
 * is reserved for it. The key expires once TAT has passed. A rate raised meanwhile (`1/min` to
 * `10/s` by an override) applies to the next message: TAT is cut to one new interval ahead.
 */
import type { MessageRate } from '@mta/config';
import type { Redis } from 'ioredis';

/** `ok`, or the milliseconds to wait before the next message may go. */
export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly waitMs: number };

export interface RateLimiter {
  /** Takes one message's place in the destination's rate; rejects only when the store is unreachable. */
  take(destination: string, rate: MessageRate): Promise<RateDecision>;
}

// KEYS[1] TAT; ARGV: emission interval µs. Returns 0 (allowed) or the µs to wait.
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
-- Without burst TAT is never more than one interval ahead: further means the rate was raised
-- (an override) since it was set, and the new rate applies from now.
if tat > now + interval then tat = now + interval end
if tat > now then return tat - now end
local next = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', next), 'PX', math.ceil(interval / 1000) + 1000)
return 0
`;

export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: Redis,
    /** Key prefix, e.g. `REDIS_PREFIX` (keys are `<prefix>:delivery:rate:<destination>`). */
    private readonly prefix: string,
  ) {}

  keyOf(destination: string): string {
    return `${this.prefix}:delivery:rate:${destination.toLowerCase()}`;
  }

  async take(destination: string, rate: MessageRate): Promise<RateDecision> {
    const intervalUs = Math.max(1, Math.floor((rate.periodMs * 1000) / rate.count));
    const waitUs = Number(await this.redis.eval(TAKE, 1, this.keyOf(destination), intervalUs));
    return waitUs <= 0 ? { ok: true } : { ok: false, waitMs: Math.ceil(waitUs / 1000) };
  }
}
