import { Queue } from 'bullmq';
import { createTestRedis } from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobContractError } from './contracts';
import { JobProducer } from './job-producer';
import { createJobWorker } from './job-worker';
import { QueueName } from './queue-names';
import { createRedisConnection, pingRedis, redisReady } from './redis-connection';

describe('JobProducer and createJobWorker on a real Redis', () => {
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let client: ReturnType<typeof createRedisConnection>;
  let producer: JobProducer;

  beforeAll(async () => {
    redis = await createTestRedis();
    client = createRedisConnection(redis.url, 'client');
    producer = new JobProducer(client, redis.prefix);
    await redisReady(client);
  });
  afterAll(async () => {
    await producer.close();
    client.disconnect();
    await redis.cleanup();
  });

  it('enqueues a valid job under its derived id, once however often it is replayed', async () => {
    const id = await producer.enqueue(QueueName.Accepted, { messageIds: ['replayed'] });
    const again = await producer.enqueue(QueueName.Accepted, { messageIds: ['replayed'] });
    expect(id).toBe('accepted/replayed');
    expect(again).toBe(id);
    expect(await producer.queue(QueueName.Accepted).getJobCountByTypes('waiting')).toBe(1);
  });

  it('names a job of several messages after its first message and its size', async () => {
    const id = await producer.enqueue(QueueName.Accepted, { messageIds: ['g1', 'g2', 'g3'] });
    expect(id).toBe('accepted/g1/3');
    expect((await producer.queue(QueueName.Accepted).getJob(id))?.data).toEqual({
      messageIds: ['g1', 'g2', 'g3'],
    });
    await producer.queue(QueueName.Accepted).remove(id);
  });

  it('enqueues several jobs in one call under their derived ids, and a replay adds none', async () => {
    const ids = await producer.enqueueMany(QueueName.Accepted, [
      { messageIds: ['b1'] },
      { messageIds: ['b2'] },
    ]);
    expect(ids).toEqual(['accepted/b1', 'accepted/b2']);
    await producer.enqueueMany(QueueName.Accepted, [{ messageIds: ['b2'] }, { messageIds: ['b1'] }]);
    const queue = producer.queue(QueueName.Accepted);
    expect((await queue.getJob('accepted/b2'))?.data).toEqual({ messageIds: ['b2'] });
    expect(await queue.getJobCountByTypes('waiting')).toBe(3); // 'replayed' above, b1, b2
    expect(await producer.enqueueMany(QueueName.Accepted, [])).toEqual([]);
  });

  it('enqueues none of a batch when one payload breaks the contract', async () => {
    const bad = { messageIds: ['b4'], body: 'x' } as unknown as { messageIds: string[] };
    await expect(producer.enqueueMany(QueueName.Accepted, [{ messageIds: ['b3'] }, bad])).rejects.toThrow(
      JobContractError,
    );
    expect(await producer.queue(QueueName.Accepted).getJob('accepted/b3')).toBeUndefined();
  });

  it('refuses a payload with a body before it reaches Redis', async () => {
    const bad = { messageIds: ['m2'], body: 'hello' } as unknown as { messageIds: string[] };
    await expect(producer.enqueue(QueueName.Accepted, bad)).rejects.toThrow(JobContractError);
    expect(await producer.queue(QueueName.Accepted).getJob('accepted/m2')).toBeUndefined();
  });

  it('hands the worker a validated payload, and fails a forged one at once without retries', async () => {
    const workerConnection = createRedisConnection(redis.url, 'worker');
    const seen: unknown[] = [];
    const worker = createJobWorker(QueueName.Delivery, async (data) => void seen.push(data), {
      connection: workerConnection,
      prefix: redis.prefix,
    });
    try {
      const failed = new Promise<{ attemptsMade: number; reason: string }>((resolve) =>
        worker.on('failed', (job, err) =>
          resolve({ attemptsMade: job?.attemptsMade ?? -1, reason: err.message }),
        ),
      );
      // A job written around the producer, as a buggy or hostile client could.
      const raw = new Queue(QueueName.Delivery, { connection: client, prefix: redis.prefix });
      await raw.add('forged', { messageId: 'm3', body: 'x' }, { attempts: 5 });
      await raw.close();
      const failure = await failed;
      expect(failure.reason).toMatch(/^invalid delivery job: .*\(root\): Unrecognized key: "body"/);
      expect(failure.attemptsMade).toBe(1);

      const done = new Promise((resolve) => worker.on('completed', resolve));
      const good = {
        messageId: 'm4',
        route: 'local' as const,
        destination: 'local',
        recipientIds: ['r1'],
        attempt: 1,
      };
      await producer.enqueue(QueueName.Delivery, good);
      await done;
      expect(seen).toEqual([good]);
    } finally {
      await worker.close();
      workerConnection.disconnect();
    }
  });

  it('fails fast instead of hanging when Redis is unreachable', async () => {
    const dead = createRedisConnection('redis://127.0.0.1:1', 'client');
    const deadProducer = new JobProducer(dead, redis.prefix);
    try {
      await expect(pingRedis(dead, 1000)).rejects.toThrow();
      await expect(deadProducer.enqueue(QueueName.Accepted, { messageIds: ['m5'] })).rejects.toThrow(
        /redis is not connected/,
      );
      await expect(deadProducer.enqueueMany(QueueName.Accepted, [{ messageIds: ['m6'] }])).rejects.toThrow(
        /redis is not connected/,
      );
    } finally {
      await deadProducer.close().catch(() => undefined);
      dead.disconnect();
    }
  });
});
