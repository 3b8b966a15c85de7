import { JobProducer, QueueName, createRedisConnection, redisReady } from '@mta/queue';
import { createTestRedis } from '@mta/testing';
import { Worker } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pendingSince } from './accepted-backlog';

describe('pendingSince on a real Redis', () => {
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let client: ReturnType<typeof createRedisConnection>;
  let producer: JobProducer;
  const queue = () => producer.queue(QueueName.Accepted);
  const add = (id: string, timestamp: number, delay = 0) =>
    queue().add(QueueName.Accepted, { messageIds: [id] }, { jobId: `accepted/${id}`, timestamp, delay });

  beforeAll(async () => {
    redis = await createTestRedis();
    client = createRedisConnection(redis.url, 'client');
    await redisReady(client);
    producer = new JobProducer(client, redis.prefix);
  });
  beforeEach(() => queue().obliterate({ force: true }));
  afterAll(async () => {
    await producer.close();
    client.disconnect();
    await redis.cleanup();
  });

  it('is Infinity when nothing is pending', async () => {
    expect(await pendingSince(queue())).toBe(Infinity);
    await add('done', 1_000);
    await queue().remove('accepted/done');
    expect(await pendingSince(queue())).toBe(Infinity);
  });

  it('is the creation time of the oldest waiting job', async () => {
    await add('w1', 5_000);
    await add('w2', 6_000);
    await add('w3', 7_000);
    expect(await pendingSince(queue())).toBe(5_000);
  });

  it('counts the job a worker is running and a delayed one created earlier', async () => {
    await add('active', 3_000);
    await add('waiting', 8_000);
    const worker = new Worker(QueueName.Accepted, null, {
      connection: createRedisConnection(redis.url, 'worker'),
      prefix: redis.prefix,
      autorun: false,
    });
    try {
      const running = await worker.getNextJob('token');
      expect(running?.id).toBe('accepted/active');
      expect(await pendingSince(queue())).toBe(3_000);
      await add('delayed', 2_000, 60_000);
      expect(await pendingSince(queue())).toBe(2_000);
    } finally {
      await worker.close();
    }
  });

  it('is -Infinity (unknown) past a thousand jobs that are not kept in creation order', async () => {
    await queue().addBulk(
      Array.from({ length: 1_001 }, (_, i) => ({
        name: QueueName.Accepted,
        data: { messageIds: [`d${i}`] },
        opts: { jobId: `accepted/d${i}`, delay: 60_000 },
      })),
    );
    expect(await pendingSince(queue())).toBe(-Infinity);
  });
});
