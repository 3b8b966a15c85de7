// Redis housekeeping for a bench run: every key under the run's REDIS_PREFIX goes at the end.
import { requireRoot } from './paths.mjs';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** Deletes every key matching `<prefix>:*` (SCAN + DEL); returns how many. */
export function deleteRedisKeys(prefix, url = REDIS_URL) {
  return withRedis(url, async (redis) => {
    let deleted = 0;
    let cursor = '0';
    for (let i = 0; i < 100_000; i++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) deleted += await redis.del(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
    return deleted;
  });
}

/** Sends one command (`[name, ...args]`) to the Redis at `url` and returns its reply. */
export const redisCommand = (url, [name, ...args]) => withRedis(url, (redis) => redis.call(name, ...args));

/** Runs `fn(redis)` with an ioredis client connected to `url`, then disconnects. */
async function withRedis(url, fn) {
  const { default: Redis } = await import(requireRoot.resolve('ioredis'));
  const RedisCtor = Redis.Redis ?? Redis;
  const redis = new RedisCtor(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}
