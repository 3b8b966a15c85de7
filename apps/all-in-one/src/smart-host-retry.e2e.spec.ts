/**
 * Issue 19: with a smart host (RELAY_HOST), an operator's retry goes to the smart host, as every
 * other delivery of a remote recipient does. The admin API used to plan the retry's job itself,
 * with the recipient's domain as destination: the job went to the domain's MX, past the smart
 * host. Now the API changes the state through @mta/queue-state and asks the queue manager's
 * dispatcher for the job.
 *
 * The built all-in-one bundle, Postfix's smtp-sink as the smart host and as the domain's MX
 * (each on its own loopback address), a DNS server in this process. The smart host is down for
 * the first attempt (connection refused: deferred, the next try an hour away); then it comes up
 * and the operator retries.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createPrismaClient, newQueueId, type PrismaClient } from '@mta/db';
import { JobProducer, QueueName, createRedisConnection, redisReady } from '@mta/queue';
import {
  aRecord,
  createTestDatabase,
  createTestRedis,
  freePort,
  haveSmtpSink,
  mxRecord,
  portFreeOn,
  requirePeer,
  startFakeDns,
  startSmtpSink,
  until,
  type SmtpSink,
  type TestDatabase,
} from '@mta/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../../..');
const main = path.join(root, 'dist/apps/all-in-one/main.js');
const MX = '127.0.0.2'; // far.test's MX
const SMART_HOST = '127.0.0.9';
const ADMIN_TOKEN = 'e2e-smart-host-admin-token-0123456789';

describe.skipIf(!requirePeer('smtp-sink', haveSmtpSink()))('an API retry with RELAY_HOST set', () => {
  let database: TestDatabase;
  let db: PrismaClient;
  let testRedis: Awaited<ReturnType<typeof createTestRedis>>;
  let redis: Redis;
  let producer: JobProducer;
  let dns: Awaited<ReturnType<typeof startFakeDns>>;
  let mxSink: SmtpSink;
  let smartHost: SmtpSink | undefined;
  let smartHostPort: number;
  let app: ChildProcess;
  let adminBase: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createPrismaClient(database.url);
    testRedis = await createTestRedis();
    redis = createRedisConnection(testRedis.url, 'client');
    await redisReady(redis);
    producer = new JobProducer(redis, testRedis.prefix);
    dns = await startFakeDns([mxRecord('far.test', 10, 'mx.far.test'), aRecord('mx.far.test', MX)]);
    const mxPort = await portFreeOn([MX]);
    mxSink = await startSmtpSink({ host: MX, port: mxPort });
    smartHostPort = await portFreeOn([SMART_HOST]); // nothing listens yet: connection refused
    const httpPort = await freePort();
    adminBase = `http://127.0.0.1:${httpPort}/api/v1`;
    app = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        ALL_IN_ONE_MODE: 'single', // one process starts faster on a 2-core runner
        ADMIN_TOKEN,
        NODE_ENV: 'development',
        DATABASE_URL: database.url,
        REDIS_URL: testRedis.url,
        REDIS_PREFIX: testRedis.prefix,
        MTA_HOSTNAME: 'mta.e2e.test',
        ADMIN_LISTEN: `127.0.0.1:${httpPort}`,
        MX_LISTEN: `127.0.0.1:${await freePort()}`,
        SUBMISSION_LISTEN: `127.0.0.1:${await freePort()}`,
        SUBMISSIONS_LISTEN: `127.0.0.1:${await freePort()}`,
        DNS_SERVERS: `127.0.0.1:${dns.port}`,
        DELIVERY_PORT: String(mxPort),
        RELAY_HOST: `${SMART_HOST}:${smartHostPort}`,
        // The queue manager's own retry is an hour away: only the operator's can deliver now.
        RETRY_FIRST_MS: '3600000',
        RETRY_MAX_MS: '3600000',
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    await until('all-in-one to start', async () => (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok);
  }, 90_000);

  afterAll(async () => {
    if (app && app.exitCode === null) {
      const exited = new Promise((resolve) => app.once('exit', resolve));
      app.kill('SIGTERM');
      await exited;
    }
    await Promise.all([mxSink?.stop(), smartHost?.stop(), dns?.close()]);
    await producer?.close();
    redis?.disconnect();
    await db?.$disconnect();
    await database?.drop();
    await testRedis?.cleanup();
  }, 60_000);

  /** A message to carol@far.test stored as intake stores one, then its `accepted` job. */
  async function store(subject: string) {
    const queueId = newQueueId();
    const body = Buffer.from(
      `From: <alice@sender.test>\r\nTo: <carol@far.test>\r\nSubject: ${subject}\r\n` +
        `Message-ID: <${queueId}@sender.test>\r\n\r\nHello.\r\n`,
    );
    const m = await db.message.create({
      data: {
        queueId,
        source: 'submission',
        sender: 'alice@sender.test',
        size: body.length,
        subject,
        recipients: {
          create: {
            address: 'carol@far.test',
            domain: 'far.test',
            route: 'remote',
            nextAttemptAt: new Date(),
          },
        },
        chunks: { create: { seq: 0, data: body } },
        events: { create: { type: 'accepted', queueId } },
      },
      include: { recipients: true },
    });
    await producer.enqueue(QueueName.Accepted, { messageIds: [m.id] });
    return { id: m.id, queueId, recipientId: m.recipients[0].id };
  }

  const recipient = (id: string) => db.recipient.findUniqueOrThrow({ where: { id } });

  it('is delivered to the smart host, never to the MX', async () => {
    const m = await store('smart host retry');
    // The first attempt went to the smart host, which was down.
    const deferred = await until('the first attempt deferred', async () => {
      const r = await recipient(m.recipientId);
      return r.status === 'deferred' ? r : undefined;
    });
    expect(deferred.attempts).toBe(1);
    expect(deferred.nextAttemptAt?.getTime()).toBeGreaterThan(Date.now() + 30 * 60_000);
    const retryJob = await until('the scheduled retry', async () =>
      (await producer.queue(QueueName.Delivery).getJobs(['delayed'])).find(
        (j) => j?.data?.messageId === m.id,
      ),
    );
    expect(retryJob.data.destination).toBe(`relay:${SMART_HOST}:${smartHostPort}`);

    smartHost = await startSmtpSink({ host: SMART_HOST, port: smartHostPort });
    const response = await fetch(`${adminBase}/messages/${m.queueId}/retry`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { enqueued: string[] };
    expect(answer.enqueued).toEqual([`delivery/${m.id}/remote/relay%3A${SMART_HOST}%3A${smartHostPort}/2`]);

    await until('delivered', async () => (await recipient(m.recipientId)).status === 'delivered');
    const sink = smartHost;
    await until('the smart host to have it', () =>
      sink.dumps().some((d) => d.content.includes('Subject: smart host retry')),
    );
    expect(mxSink.dumps().filter((d) => d.content.includes('Subject: smart host retry'))).toEqual([]);
    const attempts = await db.deliveryAttempt.findMany({
      where: { recipientId: m.recipientId },
      orderBy: { startedAt: 'asc' },
    });
    expect(attempts).toHaveLength(2);
    expect(attempts[1]).toMatchObject({ replyCode: 250, ip: SMART_HOST, port: smartHostPort });
  });
});
