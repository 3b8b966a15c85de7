/**
 * Issue #15, "delivery finishes or hands back its jobs", on the built `delivery` bundle: SIGTERM
 * to a delivery process while its deliveries are in flight to Postfix's smtp-sink, which waits
 * before it answers DATA (`-w`). The queue manager (routing, outcomes, retries) runs in this
 * process on the same PostgreSQL database and Redis prefix.
 * - A delivery that can finish within the grace (12 s) finishes: the sink's answer is reported.
 * - One that cannot is aborted before the message is sent and its recipient deferred; the
 *   next process delivers it.
 * Either way the process exits 0 within the grace period, every message reaches the sink
 * exactly once (its dump files), and PostgreSQL says every recipient delivered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createPgPool, createPrismaClient, newQueueId, type PrismaClient } from '@mta/db';
import { destinationShare } from '@mta/delivery';
import { Metrics, createLogger } from '@mta/observability';
import { JobProducer, QueueName, createRedisConnection, redisReady } from '@mta/queue';
import { QueueManager } from '@mta/queue-manager';
import {
  aRecord,
  collectJsonLogs,
  createTestDatabase,
  createTestRedis,
  freePort,
  haveSmtpSink,
  mxRecord,
  startFakeDns,
  startSmtpSink,
  until,
  type SmtpSink,
  type TestDatabase,
  requirePeer,
} from '@mta/testing';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../../..');
const main = path.join(root, 'dist/apps/delivery/main.js');
/** terminationGracePeriodSeconds of the manifests (k8s/, README "Draining"): our SIGKILL. */
const GRACE_MS = 35_000;
const MESSAGES = 12;
const CONCURRENCY = 4;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

describe.skipIf(!requirePeer('smtp-sink', haveSmtpSink()))('delivery drain on SIGTERM (issue #15)', () => {
  let database: TestDatabase;
  let db: PrismaClient;
  let pool: pg.Pool;
  let testRedis: Awaited<ReturnType<typeof createTestRedis>>;
  let redis: Redis;
  let workerRedis: Redis;
  let producer: JobProducer;
  let manager: QueueManager;
  let dns: Awaited<ReturnType<typeof startFakeDns>>;
  const sinks: SmtpSink[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createPrismaClient(database.url);
    pool = createPgPool(database.url);
    testRedis = await createTestRedis();
    redis = createRedisConnection(testRedis.url, 'client');
    workerRedis = createRedisConnection(testRedis.url, 'worker');
    await redisReady(redis);
    producer = new JobProducer(redis, testRedis.prefix);
    dns = await startFakeDns([
      mxRecord('sink.test', 10, 'mx.sink.test'),
      aRecord('mx.sink.test', '127.0.0.1'),
    ]);
    manager = new QueueManager(
      {
        db,
        pool,
        producer,
        redis,
        workerConnection: workerRedis,
        prefix: testRedis.prefix,
        logger: createLogger('queue', 'silent'),
        registry: new Metrics('queue').registry,
        hostname: 'mta.drain.test',
      },
      // A deferred recipient is tried again a second later (not minutes): the next process takes it.
      { schedule: { firstRetryMs: 1000, jitter: 0 }, reconcileIntervalMs: 0 },
    );
    await manager.start();
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await manager?.stop();
    for (const s of sinks) await s.stop();
    await dns?.close();
    await producer?.close();
    redis?.disconnect();
    workerRedis?.disconnect();
    await pool?.end();
    await db?.$disconnect();
    await database?.drop();
    await testRedis?.cleanup();
  }, 60_000);

  function startDelivery(port: number): { child: ChildProcess; exited: Promise<Exit> } {
    const child = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        NODE_ENV: 'development',
        DATABASE_URL: database.url,
        REDIS_URL: testRedis.url,
        REDIS_PREFIX: testRedis.prefix,
        MTA_HOSTNAME: 'mta.drain.test',
        HEALTH_LISTEN: '127.0.0.1:0',
        DNS_SERVERS: `127.0.0.1:${dns.port}`,
        DELIVERY_PORT: String(port),
        DELIVERY_CONCURRENCY: String(CONCURRENCY),
        LOCAL_DELIVERY: 'maildir:/nonexistent',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    collectJsonLogs(child.stdout, `delivery-${child.pid}`);
    const exited = new Promise<Exit>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    return { child, exited };
  }

  /** `n` messages to the sink's domain, stored as intake stores them, and their `accepted` jobs. */
  async function store(run: string, n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const mid = `${run}-${i}@drain.test`;
      ids.push(mid);
      const data = Buffer.from(
        `From: <alice@sender.test>\r\nTo: <u${i}@sink.test>\r\nSubject: ${run} ${i}\r\nMessage-ID: <${mid}>\r\n\r\nbody ${i}\r\n`,
      );
      const m = await db.message.create({
        data: {
          queueId: newQueueId(),
          sender: 'alice@sender.test',
          source: 'submission',
          size: data.length,
          clientAddress: '127.0.0.1',
          messageIdHeader: mid,
          recipients: {
            create: [{ address: `u${i}@sink.test`, domain: 'sink.test', nextAttemptAt: new Date() }],
          },
          chunks: { create: [{ seq: 0, data: Uint8Array.from(data) }] },
        },
      });
      await producer.enqueue(QueueName.Accepted, { messageIds: [m.id] });
    }
    return ids;
  }

  /** How many times each of `ids` reached any sink so far. */
  function received(ids: string[]): Map<string, number> {
    const counts = new Map(ids.map((id) => [id, 0]));
    for (const sink of sinks)
      for (const dump of sink.dumps()) {
        const id = /^Message-ID: <([^>]*)>/im.exec(dump.content)?.[1];
        if (id !== undefined && counts.has(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
      }
    return counts;
  }

  it.each([
    ['finish within the grace (the sink answers DATA after 3 s)', '3', 'finish'],
    ['are aborted and handed back (the sink answers DATA after 30 s)', '30', 'abort'],
  ] as const)(
    'SIGTERM while deliveries %s: exit 0, every message delivered exactly once',
    async (_what, delay, run) => {
      const port = await freePort();
      const slow = await startSmtpSink({ port, faults: ['-w', delay] });
      sinks.push(slow);
      const ids = await store(run, MESSAGES);
      const first = startDelivery(port);
      const delivery = producer.queue(QueueName.Delivery);
      await until(
        'deliveries in flight',
        async () => (await delivery.getActiveCount()) >= destinationShare(CONCURRENCY),
        60_000,
      );

      const t0 = Date.now();
      first.child.kill('SIGTERM');
      const timer = setTimeout(() => first.child.kill('SIGKILL'), GRACE_MS);
      const exit = await first.exited;
      clearTimeout(timer);
      const done = [...received(ids).values()].filter((n) => n > 0).length;
      console.log(
        `delivery (${run}): exited ${JSON.stringify(exit)} ${((Date.now() - t0) / 1000).toFixed(1)} s after SIGTERM, ${done} of ${MESSAGES} delivered`,
      );
      expect(exit).toEqual({ code: 0, signal: null });
      // What was in flight either reached the sink (finish) or did not (abort), never half.
      // In flight: the one destination's share of the process (limited-agent.ts), 3 of 4.
      if (run === 'finish') expect(done).toBeGreaterThanOrEqual(destinationShare(CONCURRENCY));
      else expect(done).toBe(0);
      // No job stays claimed by the process that left: each is done, waiting, or delayed.
      expect(await delivery.getActiveCount()).toBe(0);

      // The next process, with a sink that answers at once, delivers the rest.
      const before = received(ids);
      await slow.stop(); // (its dump files go with it)
      sinks.splice(sinks.indexOf(slow), 1);
      const fast = await startSmtpSink({ port });
      sinks.push(fast);
      const second = startDelivery(port);
      const undelivered = () =>
        db.recipient.count({
          where: { status: { not: 'delivered' }, message: { messageIdHeader: { startsWith: `${run}-` } } },
        });
      await until('every recipient delivered', async () => (await undelivered()) === 0, 90_000);
      const after = received(ids);
      const total = new Map(ids.map((id) => [id, (before.get(id) ?? 0) + (after.get(id) ?? 0)]));
      expect([...total.entries()].filter(([, n]) => n !== 1)).toEqual([]);
      second.child.kill('SIGTERM');
      expect(await second.exited).toEqual({ code: 0, signal: null });
    },
    240_000,
  );
});
