import { createRedisConnection, redisReady } from '@mta/queue';
import { createTestRedis } from '@mta/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthThrottle } from './auth-throttle';

describe('AuthThrottle on real Redis', () => {
  let test: Awaited<ReturnType<typeof createTestRedis>>;
  let redis: Redis;

  beforeAll(async () => {
    test = await createTestRedis();
    redis = createRedisConnection(test.url, 'client');
    await redisReady(redis);
  });
  afterAll(async () => {
    await test.cleanup();
    redis.disconnect();
  });

  it('locks out an IPv6 client by its /64, whichever of its addresses it guesses from', async () => {
    const throttle = new AuthThrottle(redis, { prefix: test.prefix, maxPerIp: 2, maxPerAccount: 100 });
    await throttle.failed('2001:db8:1:2::1', 'a@example.com');
    expect(await throttle.lockedOut('2001:db8:1:2::ffff', 'c@example.com')).toBe(false);
    await throttle.failed('2001:db8:1:2:aaaa::99', 'b@example.com');
    // Two failures from one /64: a third address of it is locked out, the next /64 is not.
    expect(await throttle.lockedOut('2001:db8:1:2::abc', 'c@example.com')).toBe(true);
    expect(await throttle.lockedOut('2001:db8:1:3::1', 'c@example.com')).toBe(false);
    expect(await throttle.lockedOut('192.0.2.1', 'c@example.com')).toBe(false);
  });

  it('counts IPv4 clients by address', async () => {
    const throttle = new AuthThrottle(redis, {
      prefix: `${test.prefix}:v4`,
      maxPerIp: 1,
      maxPerAccount: 100,
    });
    await throttle.failed('192.0.2.10', 'a@example.com');
    expect(await throttle.lockedOut('192.0.2.10', 'b@example.com')).toBe(true);
    expect(await throttle.lockedOut('192.0.2.11', 'b@example.com')).toBe(false);
  });
});
