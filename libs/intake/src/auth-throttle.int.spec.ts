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

  it('locks an account out for the network of the guesses only (IPv4 /24, IPv6 /64)', async () => {
    const throttle = new AuthThrottle(redis, {
      prefix: `${test.prefix}:net`,
      maxPerIp: 100,
      maxPerAccount: 5,
    });
    for (let i = 0; i < 4; i++) await throttle.failed('192.0.2.1', 'alice@example.com');
    expect(await throttle.lockedOut('192.0.2.1', 'alice@example.com')).toBe(false);
    await throttle.failed('192.0.2.1', 'alice@example.com');
    expect(await throttle.lockedOut('192.0.2.200', 'Alice@Example.com')).toBe(true);
    expect(await throttle.lockedOut('::ffff:192.0.2.9', 'alice@example.com')).toBe(true);
    expect(await throttle.lockedOut('192.0.3.1', 'alice@example.com')).toBe(false);
    expect(await throttle.lockedOut('2001:db8::1', 'alice@example.com')).toBe(false);
    expect(await throttle.lockedOut('192.0.2.1', 'bob@example.com')).toBe(false);
    // The owner's success elsewhere does not unlock the guessers' network; one there does.
    await throttle.succeeded('192.0.3.1', 'alice@example.com');
    expect(await throttle.lockedOut('192.0.2.1', 'alice@example.com')).toBe(true);
    await throttle.succeeded('192.0.2.5', 'alice@example.com');
    expect(await throttle.lockedOut('192.0.2.1', 'alice@example.com')).toBe(false);
  });

  it('slows an account down globally: the delay doubles with its failures from every network', async () => {
    const throttle = new AuthThrottle(redis, {
      prefix: `${test.prefix}:global`,
      maxPerIp: 100,
      maxPerAccount: 5,
      baseDelayMs: 10,
      maxDelayMs: 1000,
    });
    const delays: number[] = [];
    for (let n = 1; n <= 9; n++) delays.push(await throttle.failed(`198.51.${n}.7`, 'carol@example.com'));
    expect(delays).toEqual([10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    // Nine networks, one failure each: none of them, and no other, is locked out.
    expect(await throttle.lockedOut('198.51.1.7', 'carol@example.com')).toBe(false);
    expect(await throttle.lockedOut('203.0.113.1', 'carol@example.com')).toBe(false);
    // Another account from those clients starts from the client's own count.
    expect(await throttle.failed('198.51.1.7', 'dave@example.com')).toBe(20);
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
