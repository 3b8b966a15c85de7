/**
 * Traffic shaping in a delivery worker, end to end inside the delivery process: real PostgreSQL
 * (messages, and the `delivery_shaping` overrides the admin API writes), real Redis (BullMQ jobs,
 * slots, rates), the fake DNS of @mta/testing, and two receivers (nodemailer's smtp-server): one
 * that stalls, one that answers.
 *
 * - A stalled destination at its connection limit does not hold the worker: mail for the other
 *   destination is delivered meanwhile, and the stalled one never gets more sessions than allowed.
 * - Without any override, a stalled destination takes no more than its share of the worker's
 *   concurrency, though its connection limit (20) is larger: the rest delivers the other mail.
 * - An override written to `delivery_shaping` takes effect in a running worker within the
 *   refresh time (DELIVERY_SHAPING_REFRESH_MS), seen at the receiver.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { createPgPool, createPrismaClient, newQueueId, type PrismaClient } from '@mta/db';
import { createLogger } from '@mta/observability';
import { JobProducer, QueueName, createRedisConnection, jobIdOf, redisReady, type JobData } from '@mta/queue';
import {
  aRecord,
  createTestDatabase,
  createTestRedis,
  mxRecord,
  portFreeOn,
  startFakeDns,
  until,
  type FakeDnsServer,
  type TestDatabase,
} from '@mta/testing';
import { Registry } from 'prom-client';
import { startShapingPeer, type ShapingPeer } from '../test/shaping-peer';
import { destinationShare } from '../limits/process-share';
import { createDeliveryAgents, type ClosableAgents } from './agents';
import { DeliveryWorker, type DeliveryJobData } from './delivery-worker';

const SLOW = '127.0.0.7';
const FAST = '127.0.0.8';
const ZONE = [
  mxRecord('slow.test', 10, 'mx.slow.test'),
  aRecord('mx.slow.test', SLOW),
  mxRecord('fast.test', 10, 'mx.fast.test'),
  aRecord('mx.fast.test', FAST),
];

describe('traffic shaping in the delivery worker', () => {
  let database: TestDatabase;
  let db: PrismaClient;
  let pool: pg.Pool;
  let testRedis: Awaited<ReturnType<typeof createTestRedis>>;
  let redis: Redis;
  let connection: Redis;
  let producer: JobProducer;
  let dns: FakeDnsServer & { servers: { host: string; port: number }[] };
  const stops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createPrismaClient(database.url);
    pool = createPgPool(database.url);
    testRedis = await createTestRedis();
    redis = createRedisConnection(testRedis.url, 'client');
    connection = createRedisConnection(testRedis.url, 'worker');
    await redisReady(redis);
    producer = new JobProducer(redis, testRedis.prefix);
    dns = await startFakeDns(ZONE);
  });
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    await db.deliveryShaping.deleteMany();
  });
  afterAll(async () => {
    await producer?.close();
    redis?.disconnect();
    connection?.disconnect();
    await db?.$disconnect();
    await pool?.end();
    await database?.drop();
    await testRedis?.cleanup();
    await dns?.close();
  });

  /** Receivers for both domains on one port, and a worker whose agents read the overrides. */
  async function setUp(
    concurrency: number,
  ): Promise<{ slow: ShapingPeer; fast: ShapingPeer; agents: ClosableAgents; registry: Registry }> {
    const port = await portFreeOn([SLOW, FAST]);
    const slow = await startShapingPeer(SLOW, port);
    const fast = await startShapingPeer(FAST, port);
    const agents = createDeliveryAgents({
      hostname: 'mta.example.org',
      dnsServers: dns.servers,
      port,
      local: { kind: 'maildir', path: '/nonexistent' },
      concurrency,
      redis,
      prefix: testRedis.prefix,
      mtaSts: false,
      shapingOverrides: { pool, refreshMs: 200 },
    });
    const registry = new Registry();
    const worker = new DeliveryWorker(
      {
        pool,
        producer,
        connection,
        prefix: testRedis.prefix,
        agents,
        logger: createLogger('shaping-test', 'silent'),
        registry,
      },
      { concurrency },
    );
    stops.push(
      () => slow.stop(),
      () => fast.stop(),
      () => agents.close(),
      () => worker.close(),
    );
    worker.start();
    return { slow, fast, agents, registry };
  }

  /** A queued message to `address`, and its delivery job enqueued. */
  async function send(address: string): Promise<DeliveryJobData> {
    const body = Buffer.from(`Subject: ${address}\r\n\r\nhello\r\n`);
    const domain = address.split('@')[1];
    const msg = await db.message.create({
      data: {
        queueId: newQueueId(),
        source: 'submission',
        sender: 'alice@example.org',
        state: 'queued',
        size: body.length,
        chunks: { create: [{ seq: 0, data: Uint8Array.from(body) }] },
        recipients: {
          create: [{ address, domain, route: 'remote', status: 'queued', nextAttemptAt: new Date() }],
        },
      },
      include: { recipients: true },
    });
    const job: DeliveryJobData = {
      messageId: msg.id,
      route: 'remote',
      destination: domain,
      recipientIds: [msg.recipients[0].id],
      attempt: 1,
    };
    await producer.enqueue(QueueName.Delivery, job);
    return job;
  }

  const outcomeOf = async (job: DeliveryJobData) =>
    (
      await producer
        .queue(QueueName.Outcome)
        .getJob(jobIdOf[QueueName.Outcome]({ ...job, results: [] } as JobData<QueueName.Outcome>) ?? '')
    )?.data as JobData<QueueName.Outcome> | undefined;

  /** `n` messages to `<prefix><i>@<domain>`, their jobs enqueued. */
  const sendMany = (n: number, prefix: string, domain: string) =>
    Promise.all(Array.from({ length: n }, (_, i) => send(`${prefix}${i}@${domain}`)));

  /** Waits (a minute at most) until every one of `jobs` has its outcome, and returns them. */
  const outcomesOf = (what: string, jobs: DeliveryJobData[]) =>
    until(
      what,
      async () => {
        const all = await Promise.all(jobs.map(outcomeOf));
        return all.every(Boolean) && all;
      },
      60_000,
      50,
    );

  it('delivers to a fast destination while a stalled one holds all its connections', async () => {
    await db.deliveryShaping.create({ data: { domain: 'slow.test', maxConnections: 2 } });
    const { slow, fast, agents, registry } = await setUp(4);
    await agents.shaping.refresh();
    slow.stall();
    const slowJobs = await sendMany(6, 's', 'slow.test');
    await until('both slow.test sessions stalled', () => slow.held === 2, 20_000, 10);
    const fastJobs = await sendMany(5, 'f', 'fast.test');
    // Observed while slow.test still stalls: every fast.test message was delivered.
    const outcomes = await outcomesOf('fast.test delivered', fastJobs);
    expect(outcomes.map((o) => o?.results[0].kind)).toEqual(Array(5).fill('delivered'));
    expect(fast.received).toHaveLength(5);
    expect(slow.held).toBe(2);
    expect(slow.received).toHaveLength(0);
    expect(slow.maxOpen).toBe(2);
    // The surplus slow.test jobs were put back untried, counted by the limit that did it.
    const counted = await registry.getSingleMetric('mta_delivery_shaping_deferrals_total')?.get();
    const byLimit = Object.fromEntries(counted?.values.map((v) => [v.labels['limit'], v.value]) ?? []);
    expect(byLimit['connections']).toBeGreaterThan(0);
    // The receiver recovers: every slow.test message arrives, never over two sessions at once.
    slow.resume();
    await outcomesOf('slow.test delivered', slowJobs);
    expect(slow.received).toHaveLength(6);
    expect(slow.maxOpen).toBe(2);
  });

  it('keeps part of the worker for other destinations when a stalled one could take it all', async () => {
    // Defaults only: 20 connections for slow.test, a worker of 4 deliveries (its share: 3).
    const { slow, fast } = await setUp(4);
    expect(destinationShare(4)).toBe(3);
    slow.stall();
    const slowJobs = await sendMany(8, 's', 'slow.test');
    await until('three slow.test sessions stalled', () => slow.held === 3, 20_000, 10);
    const fastJobs = await sendMany(5, 'f', 'fast.test');
    const outcomes = await outcomesOf('fast.test delivered', fastJobs);
    expect(outcomes.map((o) => o?.results[0].kind)).toEqual(Array(5).fill('delivered'));
    expect(fast.received).toHaveLength(5);
    expect(slow.maxOpen).toBe(3);
    expect(slow.received).toHaveLength(0);
    slow.resume();
    await outcomesOf('slow.test delivered', slowJobs);
    expect(slow.received).toHaveLength(8);
  });

  it('applies an override written to delivery_shaping within the refresh time', async () => {
    const { fast } = await setUp(1);
    for (let i = 0; i < 2; i++) await send(`before${i}@fast.test`);
    await until('two messages', () => fast.received.length === 2, 20_000, 10);
    expect(fast.messagesPerSession()).toEqual([2]); // the default: one session carries both
    // As PUT /api/v1/shaping/fast.test does: one message per session from now on.
    await db.deliveryShaping.create({ data: { domain: 'fast.test', maxMessagesPerConnection: 1 } });
    // Within the refresh time (200 ms here) a delivery runs with it: a message opens a new session.
    let i = 0;
    await until(
      'a message in a session of its own',
      async () => {
        await send(`after${i++}@fast.test`);
        await until('delivered', () => fast.received.length === 2 + i, 20_000, 10);
        const per = fast.messagesPerSession();
        return per.length >= 3 && per.at(-1) === 1 && per.at(-2) === 1;
      },
      20_000,
      10,
    );
    // ...and it stays so: the next two go on two more new sessions.
    const sessions = fast.messagesPerSession().length;
    for (let k = 0; k < 2; k++) {
      await send(`later${k}@fast.test`);
      await until('delivered', () => fast.received.length === 2 + i + k + 1, 20_000, 10);
    }
    expect(fast.messagesPerSession().slice(sessions)).toEqual([1, 1]);
  });
});
