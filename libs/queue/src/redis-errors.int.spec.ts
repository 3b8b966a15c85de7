/**
 * Redis going away under a producer and a worker: every error of the Redis and BullMQ clients
 * reaches the caller's handler (a JSON log line), and nothing is printed raw to the console.
 */
import { createTestRedis, startTcpProxy, until, type TcpProxy } from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { JobProducer } from './job-producer';
import { createJobWorker } from './job-worker';
import { QueueName } from './queue-names';
import { createRedisConnection, redisReady } from './redis-connection';
import { LOST_JOB, LOST_JOB_TEXT, redisErrorLog } from './redis-errors';

describe('Redis and BullMQ client errors', () => {
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let proxy: TcpProxy;

  beforeAll(async () => {
    redis = await createTestRedis();
    proxy = await startTcpProxy(Number(new URL(redis.url).port || 6379));
  });
  afterAll(async () => {
    await proxy.close();
    await redis.cleanup();
  });

  it('reach the handler, not the console, while Redis is away and after it is back', async () => {
    const errors: string[] = [];
    const onError = (error: Error) => errors.push(error.message);
    const printed = vi.spyOn(console, 'error');
    const url = proxy.via(redis.url);
    const client = createRedisConnection(url, 'client', onError);
    const connection = createRedisConnection(url, 'worker', onError);
    const producer = new JobProducer(client, redis.prefix, onError);
    const worker = createJobWorker(QueueName.Accepted, async () => 'ok', {
      connection,
      prefix: redis.prefix,
      onError,
    });
    try {
      await redisReady(client);
      await worker.waitUntilReady();
      await producer.enqueue(QueueName.Accepted, { messageIds: ['before'] });
      const queue = producer.queue(QueueName.Accepted);
      await until('the job done', async () => (await queue.getJobCounts('completed')).completed === 1);

      await proxy.stop(); // Redis goes away
      await until('errors reported', () => errors.length >= 3, 20_000);
      await proxy.start();
      await until('Redis back', async () => (await queue.getJobCounts('completed')).completed === 1, 20_000);
      await producer.enqueue(QueueName.Accepted, { messageIds: ['after'] });
      await until('the next job done', async () => (await queue.getJobCounts('completed')).completed === 2);
      expect(printed).not.toHaveBeenCalled();
    } finally {
      printed.mockRestore();
      await worker.close();
      await producer.close();
      client.disconnect();
      connection.disconnect();
    }
  });

  it('report a job whose keys were flushed while it ran as "Missing key for job …", logged at warn', async () => {
    const flushed = await createTestRedis();
    const errors: Error[] = [];
    const client = createRedisConnection(flushed.url, 'client');
    const connection = createRedisConnection(flushed.url, 'worker');
    const producer = new JobProducer(client, flushed.prefix);
    let started = false;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const worker = createJobWorker(
      QueueName.Accepted,
      async () => {
        started = true;
        await gate;
      },
      { connection, prefix: flushed.prefix, onError: (e) => errors.push(e) },
    );
    const lines: { level: string; fields: object; message: string }[] = [];
    const log = redisErrorLog(
      {
        warn: (fields, message) => lines.push({ level: 'warn', fields, message }),
        error: (fields, message) => lines.push({ level: 'error', fields, message }),
      },
      { source: 'test worker' },
    );
    try {
      await redisReady(client);
      await producer.enqueue(QueueName.Accepted, { messageIds: ['flushed'] });
      await until('the job running', () => started);
      await flushed.cleanup(); // Redis loses the prefix's keys while the job runs
      release();
      await until('the worker reports the lost job', () => errors.find((e) => LOST_JOB.test(e.message)));
      for (const e of errors) log(e);
      expect(lines[0]).toMatchObject({ level: 'warn', fields: { reason: LOST_JOB_TEXT } });
      expect(lines.every((l) => l.level === 'warn')).toBe(true);
    } finally {
      release();
      await worker.close();
      await producer.close();
      client.disconnect();
      connection.disconnect();
    }
  });
});
