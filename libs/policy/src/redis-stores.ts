/** Redis implementations of the policy stores: every replica of the service shares them. */
import type { Redis } from 'ioredis';
import type { GreylistStore, GreylistVerdict, RateCounter, RateLimit } from './stores';

/** Pending triplets that never come back are forgotten after this long (postgrey's retry window). */
const PENDING_RETENTION_MS = 2 * 86_400_000;

// KEYS[1] triplet; ARGV now, delay, ttl, pending retention. Returns the ms still to wait (0: pass).
const GREYLIST_SCRIPT = `
local now = tonumber(ARGV[1])
local first = redis.call('GET', KEYS[1])
if not first then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
  return tonumber(ARGV[2])
end
local waited = now - tonumber(first)
if waited >= tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 0
end
return tonumber(ARGV[2]) - waited
`;

// KEYS counters; ARGV amount, then limit and window per counter. Returns the 1-based index of
// the limit that would be passed (nothing counted), or 0 (all counted).
const RATE_SCRIPT = `
local amount = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count + amount > tonumber(ARGV[2 * i]) then return i end
end
for i, key in ipairs(KEYS) do
  redis.call('INCRBY', key, amount)
  if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ARGV[2 * i + 1]) end
end
return 0
`;

export class RedisPolicyStore implements GreylistStore, RateCounter {
  constructor(
    private readonly redis: Redis,
    /** Key prefix (REDIS_PREFIX); keys are `<prefix>:policy:...`. */
    private readonly prefix: string,
  ) {}

  async check(triplet: string, now: number, delayMs: number, ttlMs: number): Promise<GreylistVerdict> {
    const retention = Math.max(PENDING_RETENTION_MS, 2 * delayMs);
    const wait = Number(
      await this.redis.eval(GREYLIST_SCRIPT, 1, this.key(`grey:${triplet}`), now, delayMs, ttlMs, retention),
    );
    return wait <= 0 ? { pass: true } : { pass: false, retryInMs: wait };
  }

  async hit(limits: readonly RateLimit[], amount = 1): Promise<RateLimit | null> {
    if (limits.length === 0) return null;
    const args = limits.flatMap((l) => [l.limit, l.windowMs]);
    const keys = limits.map((l) => this.key(`rate:${l.key}`));
    const index = Number(await this.redis.eval(RATE_SCRIPT, keys.length, ...keys, amount, ...args));
    return index === 0 ? null : (limits[index - 1] ?? null);
  }

  private key(rest: string): string {
    return `${this.prefix}:policy:${rest}`;
  }
}
