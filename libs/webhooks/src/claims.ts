import type { Redis } from 'ioredis';

/**
 * Claims a page of delivery ids in one round trip: the ones no live claim holds are claimed
 * until now + lease (Redis's clock, the same for every replica) and returned; expired claims
 * are dropped first, so the set holds at most the deliveries queued within one lease.
 */
const CLAIM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local claimed = {}
for i = 2, #ARGV do
  if not redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i])
    claimed[#claimed + 1] = ARGV[i]
  end
end
return claimed`;

/**
 * The dispatcher's claims on the deliveries it has queued, held in Redis only (a sorted set,
 * score = end of the lease): a replica, or the next look at the outbox, skips a delivery whose
 * job is queued or running; the sender releases the claims when its job ends. Lost with Redis,
 * or never released (a worker killed mid-job), a claim ends with its lease, and the delivery,
 * still pending in PostgreSQL, is queued again: at least once.
 */
export class WebhookClaims {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = `${prefix}:webhooks:claims`;
  }

  /** The ids among `ids` that this call claimed (the others are claimed already). */
  async claim(ids: readonly string[], leaseMs: number): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const claimed = await this.redis.eval(CLAIM, 1, this.key, String(leaseMs), ...ids);
    return new Set(Array.isArray(claimed) ? claimed.map(String) : []);
  }

  async release(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.redis.zrem(this.key, ...ids);
  }
}
