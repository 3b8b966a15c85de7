import { createHash, randomBytes } from 'node:crypto';
import { createPgPool, createPrismaClient, newQueueId, readMessageBuffer, type PrismaClient } from '@mta/db';
import type pg from 'pg';
import { createLogger } from '@mta/observability';
import { JobProducer, QueueName, createRedisConnection, redisReady } from '@mta/queue';
import { SmtpError } from '@mta/smtp-protocol';
import {
  createTestDatabase,
  createTestRedis,
  startTcpProxy,
  type TcpProxy,
  type TestDatabase,
} from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodyCollector } from './body-collector';
import { MessageWriter, type IncomingMessage } from './message-writer';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function message(body: Buffer): IncomingMessage {
  const collector = new BodyCollector(4096);
  for (let i = 0; i < body.length; i += 1000) collector.push(body.subarray(i, i + 1000));
  return {
    queueId: newQueueId(),
    source: 'mx',
    sender: 'alice@example.net',
    clientAddress: '192.0.2.7',
    clientHelo: 'mail.example.net',
    authUser: null,
    recipients: [
      {
        address: 'bob@local.example',
        domain: 'local.example',
        route: 'local',
        notify: ['FAILURE'],
        orcpt: 'rfc822;bob@local.example',
      },
    ],
    dsnRet: 'HDRS',
    dsnEnvid: 'ENV1',
    smtpUtf8: false,
    eightBitMime: true,
    header: { messageId: '<1@example.net>', from: 'alice@example.net', subject: 'hi' },
    chunks: collector.finish(),
    size: collector.size,
  };
}

describe('MessageWriter on real PostgreSQL and Redis', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let db: PrismaClient;
  let pool: pg.Pool;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let producer: JobProducer;
  let redisClient: ReturnType<typeof createRedisConnection>;
  let writer: MessageWriter;

  beforeAll(async () => {
    database = await createTestDatabase();
    proxy = await startTcpProxy(Number(new URL(database.url).port || 5432));
    db = createPrismaClient(proxy.via(database.url));
    pool = createPgPool(proxy.via(database.url));
    redis = await createTestRedis();
    redisClient = createRedisConnection(redis.url, 'client');
    await redisReady(redisClient);
    producer = new JobProducer(redisClient, redis.prefix);
    writer = new MessageWriter(pool, producer, createLogger('test', 'silent'));
  });
  afterAll(async () => {
    await producer.close();
    redisClient.disconnect();
    await db.$disconnect();
    await pool.end();
    await proxy.close();
    await database.drop();
    await redis.cleanup();
  });

  it('stores envelope, recipients and the body byte for byte, then enqueues the id', async () => {
    const body = Buffer.concat([Buffer.from('Subject: hi\r\n\r\n'), randomBytes(300_000)]);
    const stored = await writer.store(message(body));
    expect(stored.queueId).toMatch(/^[0-9A-Z]{16}$/);
    const row = await db.message.findUniqueOrThrow({
      where: { id: stored.id },
      include: { recipients: true, events: true },
    });
    expect(row).toMatchObject({
      queueId: stored.queueId,
      sender: 'alice@example.net',
      size: body.length,
      dsnRet: 'HDRS',
      state: 'received',
    });
    expect(row.recipients.map((r) => [r.address, r.route, r.status, r.dsnNotify])).toEqual([
      ['bob@local.example', 'local', 'queued', ['FAILURE']],
    ]);
    expect(row.events.map((e) => e.type)).toEqual(['accepted']);
    expect(sha(await readMessageBuffer(db, stored.id))).toBe(sha(body));
    // The 250 does not wait for Redis: the job follows the commit.
    await writer.drain();
    const job = await producer.queue(QueueName.Accepted).getJob(`accepted/${stored.id}`);
    expect(job?.data).toEqual({ messageIds: [stored.id] });
  });

  it('answers 451 4.3.0 and stores nothing while PostgreSQL is down, and recovers without a restart', async () => {
    const before = await db.message.count();
    await proxy.stop();
    const failure = await writer
      .store(message(Buffer.from('Subject: x\r\n\r\nbody\r\n')))
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SmtpError);
    expect((failure as SmtpError).code).toBe(451);
    expect((failure as SmtpError).enhanced).toBe('4.3.0');
    expect((failure as SmtpError).text).not.toMatch(/ECONNREFUSED|postgres/i);
    await proxy.start();
    expect(await db.message.count()).toBe(before);
    const stored = await writer.store(message(Buffer.from('Subject: y\r\n\r\nbody\r\n')));
    expect(await db.message.count()).toBe(before + 1);
    expect(stored.id).toBeTruthy();
  });

  it('keeps the message when Redis is down: it waits in PostgreSQL for the reconciler', async () => {
    const dead = createRedisConnection('redis://127.0.0.1:1', 'client');
    const deadWriter = new MessageWriter(
      pool,
      new JobProducer(dead, redis.prefix),
      createLogger('test', 'silent'),
    );
    try {
      const stored = await deadWriter.store(message(Buffer.from('Subject: z\r\n\r\nbody\r\n')));
      const row = await db.message.findUniqueOrThrow({ where: { id: stored.id } });
      expect(row.state).toBe('received');
    } finally {
      dead.disconnect();
    }
  });

  describe('group commit', () => {
    const body = (n: number) => Buffer.from(`Subject: m${n}\r\n\r\n${'x'.repeat(n * 37)}\r\n`);

    it('commits the messages that end while a write is in flight together, each with its own body', async () => {
      const batches: number[] = [];
      const grouped = new MessageWriter(pool, producer, createLogger('test', 'silent'), {
        maxInFlight: 1,
        onBatch: (n) => batches.push(n),
      });
      const sent = Array.from({ length: 20 }, (_, i) => message(body(i)));
      const stored = await Promise.all(sent.map((m) => grouped.store(m)));
      // The first goes at once, alone; the 19 that came while it was written share the next write.
      expect(batches).toEqual([1, 19]);
      expect(stored.map((s) => s.queueId)).toEqual(sent.map((m) => m.queueId));
      await grouped.drain();
      for (const [i, s] of stored.entries()) {
        expect(sha(await readMessageBuffer(db, s.id))).toBe(sha(body(i)));
        const row = await db.message.findUniqueOrThrow({
          where: { id: s.id },
          include: { recipients: true, events: true },
        });
        expect(row.queueId).toBe(sent[i].queueId);
        expect(row.recipients.map((r) => r.address)).toEqual(['bob@local.example']);
        expect(row.events.map((e) => e.detail)).toEqual([
          { source: 'mx', size: sent[i].size, recipients: 1 },
        ]);
      }
      // The accepted jobs: one per Redis round trip, not one per message; each message in one.
      const ids = new Set(stored.map((s) => s.id));
      const jobs = (await producer.queue(QueueName.Accepted).getJobs(['waiting']))
        .map((job) => (job.data as { messageIds: string[] }).messageIds)
        .filter((messageIds) => messageIds.some((id) => ids.has(id)));
      expect(jobs.flat().sort()).toEqual([...ids].sort());
      expect(jobs.length).toBeLessThanOrEqual(2);
    });

    it('keeps the batches within their byte bound: a message bigger than the bound goes alone', async () => {
      const batches: number[] = [];
      const grouped = new MessageWriter(pool, producer, createLogger('test', 'silent'), {
        maxInFlight: 1,
        maxBatchBytes: 1000,
        onBatch: (n) => batches.push(n),
      });
      const small = () => message(Buffer.from('Subject: s\r\n\r\n' + 'y'.repeat(300) + '\r\n'));
      const big = message(Buffer.from('Subject: b\r\n\r\n' + 'z'.repeat(5000) + '\r\n'));
      await Promise.all([small(), small(), small(), small(), big, small()].map((m) => grouped.store(m)));
      // 1 alone (nothing in flight), then 3 x 317 bytes, then the big one alone, then the last.
      expect(batches).toEqual([1, 3, 1, 1]);
    });

    it('fails only the message the database refuses when it shared a write with others', async () => {
      const grouped = new MessageWriter(pool, producer, createLogger('test', 'silent'), { maxInFlight: 1 });
      const first = grouped.store(message(body(1)));
      const good = [message(body(2)), message(body(3))];
      // An int4 column cannot hold this size: PostgreSQL refuses the whole statement.
      const bad = { ...message(body(4)), size: 2 ** 31 };
      const results = await Promise.allSettled([
        first,
        grouped.store(good[0]),
        grouped.store(bad),
        grouped.store(good[1]),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      const refusal = (results[2] as PromiseRejectedResult).reason as SmtpError;
      expect([refusal.code, refusal.enhanced]).toEqual([451, '4.3.0']);
      for (const m of good) expect(await db.message.count({ where: { queueId: m.queueId } })).toBe(1);
      expect(await db.message.count({ where: { queueId: bad.queueId } })).toBe(0);
    });

    it('stores header fields with NUL characters without them (PostgreSQL text cannot hold NUL)', async () => {
      const m = message(body(5));
      m.header = { messageId: '<a\u0000b@x>', from: 'a\u0000@x', subject: 'nul\u0000here' };
      const stored = await writer.store(m);
      const row = await db.message.findUniqueOrThrow({ where: { id: stored.id } });
      expect([row.messageIdHeader, row.fromHeader, row.subject]).toEqual(['<ab@x>', 'a@x', 'nulhere']);
    });
  });
});
