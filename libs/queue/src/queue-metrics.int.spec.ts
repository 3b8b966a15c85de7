/** Queue depth metrics against a real Redis: the numbers an autoscaler acts on. */
import { createTestRedis, until } from '@mta/testing';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobProducer } from './job-producer';
import { createJobWorker } from './job-worker';
import { QUEUE_JOBS_METRIC, registerQueueMetrics } from './queue-metrics';
import { QueueName } from './queue-names';
import { createRedisConnection, redisReady } from './redis-connection';

const delivery = (messageId: string) => ({
  messageId,
  route: 'remote' as const,
  destination: 'example.org',
  recipientIds: ['r1'],
  attempt: 1,
});

async function jobs(registry: Registry): Promise<Record<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === QUEUE_JOBS_METRIC);
  return Object.fromEntries(
    (metric?.values ?? []).map((v) => [`${String(v.labels['queue'])}/${String(v.labels['state'])}`, v.value]),
  );
}

describe('mta_queue_jobs on a real Redis', () => {
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let client: ReturnType<typeof createRedisConnection>;
  let workerConnection: ReturnType<typeof createRedisConnection>;
  let producer: JobProducer;
  const registry = new Registry();

  beforeAll(async () => {
    redis = await createTestRedis();
    client = createRedisConnection(redis.url, 'client');
    workerConnection = createRedisConnection(redis.url, 'worker');
    producer = new JobProducer(client, redis.prefix);
    await redisReady(client);
    registerQueueMetrics(registry, producer);
    registerQueueMetrics(registry, producer); // a second module on the same registry shares it
  });
  afterAll(async () => {
    await producer.close();
    client.disconnect();
    workerConnection.disconnect();
    await redis.cleanup();
  });

  it('reports every queue at zero before any job', async () => {
    const counts = await jobs(registry);
    for (const queue of Object.values(QueueName))
      for (const state of ['waiting', 'delayed', 'active']) expect(counts[`${queue}/${state}`]).toBe(0);
  });

  it('moves with waiting, delayed and active jobs, and waiting is the list a KEDA Redis trigger reads', async () => {
    for (const id of ['m1', 'm2', 'm3', 'm4']) await producer.enqueue(QueueName.Delivery, delivery(id));
    await producer.enqueue(QueueName.Delivery, delivery('later1'), { delay: 3_600_000 });
    await producer.enqueue(QueueName.Delivery, delivery('later2'), { delay: 3_600_000 });
    let counts = await jobs(registry);
    expect(counts['delivery/waiting']).toBe(4);
    expect(counts['delivery/delayed']).toBe(2);
    expect(counts['delivery/active']).toBe(0);
    // k8s/components/keda/scaledobject.yaml scales on the length of this Redis list.
    expect(await client.llen(`${redis.prefix}:delivery:wait`)).toBe(4);

    // One worker holding one job: active 1, waiting 3.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const worker = createJobWorker(QueueName.Delivery, () => held, {
      connection: workerConnection,
      prefix: redis.prefix,
      concurrency: 1,
    });
    try {
      await until('one active job', async () => (await jobs(registry))['delivery/active'] === 1);
      counts = await jobs(registry);
      expect(counts['delivery/waiting']).toBe(3);
      expect(await client.llen(`${redis.prefix}:delivery:wait`)).toBe(3);
      release();
      await until('no waiting job', async () => (await jobs(registry))['delivery/waiting'] === 0);
      await until('no active job', async () => (await jobs(registry))['delivery/active'] === 0);
      expect((await jobs(registry))['delivery/delayed']).toBe(2);
      expect((await jobs(registry))['accepted/waiting']).toBe(0);
    } finally {
      release();
      await worker.close();
    }
  });

  it('leaves the series out, rather than reporting zero, while Redis does not answer', async () => {
    const down = createRedisConnection('redis://127.0.0.1:1', 'client');
    const downProducer = new JobProducer(down, 'unreachable');
    const other = new Registry();
    registerQueueMetrics(other, downProducer);
    try {
      const text = await other.metrics(); // the scrape itself still succeeds
      expect(text).toContain(`# TYPE ${QUEUE_JOBS_METRIC} gauge`);
      expect(text).not.toMatch(new RegExp(`^${QUEUE_JOBS_METRIC}\\{`, 'm'));
    } finally {
      await downProducer.close();
      down.disconnect();
    }
  });
});
