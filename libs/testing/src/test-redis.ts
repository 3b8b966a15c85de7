import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const TEST_REDIS_URL =
  process.env['TEST_REDIS_URL'] ?? process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/**
 * An isolated slice of the shared Redis for one test file: a unique BullMQ key prefix,
 * and `cleanup()` that deletes every key under it.
 */
export async function createTestRedis(): Promise<{ url: string; prefix: string; cleanup(): Promise<void> }> {
  const prefix = `mta-test-${randomBytes(6).toString('hex')}`;
  return {
    url: TEST_REDIS_URL,
    prefix,
    async cleanup() {
      const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await redis.del(...keys);
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    },
  };
}
