/**
 * The delivery worker on a real PostgreSQL database and a real Redis prefix, with scripted
 * agents: which recipients it delivers, the outcome job it writes, `deferred-local` put back as
 * the same delayed job, replays that find their outcome, and shutdown that aborts a delivery
 * that does not end.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { createPgPool, createPrismaClient, newQueueId, type PrismaClient } from '@mta/db';
import type pg from 'pg';
import { createLogger } from '@mta/observability';
import { JobProducer, QueueName, createRedisConnection, jobIdOf, redisReady, type JobData } from '@mta/queue';
import { createTestDatabase, createTestRedis, startTcpProxy, type TestDatabase } from '@mta/testing';
import { Registry } from 'prom-client';
import { allRecipients, type DeliveryAgent, type DeliveryReport, type DeliveryRequest } from '../contract';
import { DeliveryWorker, type DeliveryJobData } from './delivery-worker';

/** An agent that answers from a function and remembers what it was asked. */
class ScriptedAgent implements DeliveryAgent {
  readonly requests: DeliveryRequest[] = [];
  constructor(public answer: (r: DeliveryRequest) => Promise<DeliveryReport> | DeliveryReport = ok) {}
  async deliver(request: DeliveryRequest): Promise<DeliveryReport> {
    this.requests.push(request);
    return this.answer(request);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function ok(r: DeliveryRequest): DeliveryReport {
  return {
    status: 'attempted',
    results: allRecipients(r, {
      kind: 'delivered',
      code: 250,
      enhanced: '2.0.0',
      text: 'Ok',
      source: 'remote',
      remote: { host: 'mx.example.net', address: '127.0.0.2', port: 25 },
      tls: null,
    }),
  };
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('DeliveryWorker', () => {
  let database: TestDatabase;
  let db: PrismaClient;
  let pool: pg.Pool;
  let testRedis: Awaited<ReturnType<typeof createTestRedis>>;
  let redis: Redis;
  let connection: Redis;
  let producer: JobProducer;
  const remote = new ScriptedAgent();
  const local = new ScriptedAgent();
  const smartHost = new ScriptedAgent();
  let worker: DeliveryWorker | undefined;
  const logger = createLogger('delivery-test', 'silent');

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createPrismaClient(database.url);
    pool = createPgPool(database.url);
    testRedis = await createTestRedis();
    redis = createRedisConnection(testRedis.url, 'client');
    connection = createRedisConnection(testRedis.url, 'worker');
    await redisReady(redis);
    producer = new JobProducer(redis, testRedis.prefix);
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    for (const a of [remote, local, smartHost]) {
      a.requests.length = 0;
      a.answer = ok;
    }
  });

  afterAll(async () => {
    await producer?.close();
    redis?.disconnect();
    connection?.disconnect();
    await db?.$disconnect();
    await pool?.end();
    await database?.drop();
    await testRedis?.cleanup();
  });

  const start = (options: ConstructorParameters<typeof DeliveryWorker>[1] = {}) => {
    worker = new DeliveryWorker(
      {
        pool,
        producer,
        connection,
        prefix: testRedis.prefix,
        agents: { remote, local, smartHost },
        logger,
        registry: new Registry(),
      },
      { concurrency: 4, ...options },
    );
    worker.start();
    return worker;
  };

  /** A routed message (state queued) with recipients in the given statuses. */
  async function store(
    recipients: {
      address: string;
      status?: 'queued' | 'deferred' | 'held' | 'delivered';
      attempts?: number;
    }[],
    state: 'queued' | 'held' = 'queued',
  ) {
    const body = Buffer.from('Subject: t\r\n\r\nhello\r\n');
    const msg = await db.message.create({
      data: {
        queueId: newQueueId(),
        source: 'submission',
        sender: 'alice@example.org',
        state,
        size: body.length,
        chunks: { create: [{ seq: 0, data: Uint8Array.from(body) }] },
        recipients: {
          create: recipients.map((r) => ({
            address: r.address,
            domain: r.address.split('@')[1],
            route: 'remote' as const,
            status: r.status ?? 'queued',
            attempts: r.attempts ?? 0,
            nextAttemptAt: new Date(),
          })),
        },
      },
      include: { recipients: true },
    });
    const id = (address: string) => msg.recipients.find((r) => r.address === address)?.id ?? '';
    return { messageId: msg.id, id };
  }

  const outcomeOf = async (job: DeliveryJobData) =>
    (
      await producer
        .queue(QueueName.Outcome)
        .getJob(jobIdOf[QueueName.Outcome]({ ...job, results: [] } as JobData<QueueName.Outcome>) ?? '')
    )?.data as JobData<QueueName.Outcome> | undefined;

  it('delivers a job and reports each recipient as an outcome job, with who answered', async () => {
    const m = await store([{ address: 'a@example.net' }, { address: 'b@example.net' }]);
    const job: DeliveryJobData = {
      messageId: m.messageId,
      route: 'remote',
      destination: 'example.net',
      recipientIds: [m.id('b@example.net'), m.id('a@example.net')],
      attempt: 1,
    };
    remote.answer = (r) => ({
      status: 'attempted',
      results: [
        { ...ok(r).results[0], kind: 'deferred', code: 450, enhanced: '4.2.0', text: 'busy' },
        ok(r).results[1],
      ],
    });
    start();
    await producer.enqueue(QueueName.Delivery, job);
    const outcome = await waitFor('the outcome', () => outcomeOf(job));
    expect(outcome).toEqual({
      messageId: m.messageId,
      route: 'remote',
      destination: 'example.net',
      attempt: 1,
      results: [
        expect.objectContaining({ recipientId: m.id('b@example.net'), kind: 'deferred', code: 450 }),
        expect.objectContaining({
          recipientId: m.id('a@example.net'),
          kind: 'delivered',
          remote: { host: 'mx.example.net', address: '127.0.0.2', port: 25 },
          tls: null,
        }),
      ],
    });
    expect(remote.requests[0].recipients.map((r) => r.address)).toEqual(['b@example.net', 'a@example.net']);
    expect(local.requests).toHaveLength(0);
  });

  it('picks the agent by route: local, remote, smart host', async () => {
    const m = await store([{ address: 'l@local.test' }, { address: 'r@smart.test' }]);
    const w = start();
    await w.process({
      messageId: m.messageId,
      route: 'local',
      destination: 'local',
      recipientIds: [m.id('l@local.test')],
      attempt: 1,
    });
    await w.process({
      messageId: m.messageId,
      route: 'remote',
      destination: 'relay:smtp.provider.test:587',
      recipientIds: [m.id('r@smart.test')],
      attempt: 1,
    });
    expect(local.requests.map((r) => r.recipients[0].address)).toEqual(['l@local.test']);
    expect(smartHost.requests.map((r) => r.recipients[0].address)).toEqual(['r@smart.test']);
    expect(remote.requests).toHaveLength(0);
  });

  it('delivers only recipients still waiting for this attempt, and nothing of a held message', async () => {
    const m = await store([
      { address: 'queued@example.net' },
      { address: 'deferred@example.net', status: 'deferred', attempts: 1 },
      { address: 'held@example.net', status: 'held' },
      { address: 'done@example.net', status: 'delivered', attempts: 1 },
      { address: 'late@example.net', status: 'deferred', attempts: 2 },
    ]);
    const all = ['queued', 'deferred', 'held', 'done', 'late'].map((n) => m.id(`${n}@example.net`));
    const w = start();
    const result = await w.process({
      messageId: m.messageId,
      route: 'remote',
      destination: 'example.net',
      recipientIds: all,
      attempt: 2,
    });
    expect(result).toMatchObject({ result: 'reported', delivered: 2 });
    expect(remote.requests[0].recipients.map((r) => r.address)).toEqual([
      'queued@example.net',
      'deferred@example.net',
    ]);

    const held = await store([{ address: 'x@example.net' }], 'held');
    expect(
      await w.process({
        messageId: held.messageId,
        route: 'remote',
        destination: 'example.net',
        recipientIds: [held.id('x@example.net')],
        attempt: 1,
      }),
    ).toEqual({ result: 'skipped', reason: 'message held' });
    expect(remote.requests).toHaveLength(1);
  });

  it('leaves recipients of a paused domain alone (no delivery, no outcome)', async () => {
    await db.domainPause.create({ data: { domain: 'paused.test' } });
    const m = await store([{ address: 'p@paused.test' }]);
    const job: DeliveryJobData = {
      messageId: m.messageId,
      route: 'remote',
      destination: 'paused.test',
      recipientIds: [m.id('p@paused.test')],
      attempt: 1,
    };
    expect(await start().process(job)).toEqual({ result: 'skipped', reason: 'destination paused' });
    expect(remote.requests).toHaveLength(0);
    expect(await outcomeOf(job)).toBeUndefined();
  });

  it('puts a deferred-local job back as the same delayed job, without an outcome, and runs it again', async () => {
    const m = await store([{ address: 'slot@busy.test' }]);
    const job: DeliveryJobData = {
      messageId: m.messageId,
      route: 'remote',
      destination: 'busy.test',
      recipientIds: [m.id('slot@busy.test')],
      attempt: 1,
    };
    let calls = 0;
    remote.answer = (r) =>
      ++calls === 1
        ? {
            status: 'deferred-local',
            retryAfterMs: 300,
            results: allRecipients(r, {
              kind: 'deferred',
              code: 451,
              enhanced: '4.4.5',
              text: 'no slot',
              source: 'local',
            }),
          }
        : ok(r);
    start();
    const id = await producer.enqueue(QueueName.Delivery, job);
    const queue = producer.queue(QueueName.Delivery);
    await waitFor('the job delayed', async () => (await queue.getJob(id))?.isDelayed());
    expect(await outcomeOf(job)).toBeUndefined();
    const outcome = await waitFor('the outcome', () => outcomeOf(job));
    expect(outcome.results[0].kind).toBe('delivered');
    expect(calls).toBe(2);
    expect((await queue.getJob(id))?.id).toBe(id);
  });

  it('retries a job whose PostgreSQL is unreachable with a backoff, and delivers it once when it is back', async () => {
    const m = await store([{ address: 'pg@down.test' }]);
    const job: DeliveryJobData = {
      messageId: m.messageId,
      route: 'remote',
      destination: 'down.test',
      recipientIds: [m.id('pg@down.test')],
      attempt: 1,
    };
    const proxy = await startTcpProxy(Number(new URL(database.url).port || 5432));
    const cutPool = createPgPool(proxy.via(database.url));
    cutPool.on('error', () => undefined);
    try {
      await proxy.stop(); // the worker's PostgreSQL is gone
      worker = new DeliveryWorker(
        { pool: cutPool, producer, connection, prefix: testRedis.prefix, agents: { remote, local }, logger },
        { concurrency: 2, dbRetryFirstMs: 200, dbRetryMaxMs: 400 },
      );
      worker.start();
      const id = await producer.enqueue(QueueName.Delivery, job);
      const queue = producer.queue(QueueName.Delivery);
      // Tried again and again (attemptsStarted grows), delayed in between, never failed.
      await waitFor('the job tried three times', async () => {
        const j = await queue.getJob(id);
        expect(await j?.isFailed()).toBe(false);
        return (j?.attemptsStarted ?? 0) >= 3 && (await j?.isDelayed());
      });
      expect(remote.requests).toHaveLength(0);
      await proxy.start();
      const outcome = await waitFor('the outcome', () => outcomeOf(job));
      expect(outcome.results[0].kind).toBe('delivered');
      expect(remote.requests).toHaveLength(1); // delivered once
      await waitFor('the job completed', async () => (await queue.getJob(id))?.isCompleted());
    } finally {
      await worker?.close();
      worker = undefined;
      await cutPool.end();
      await proxy.close();
    }
  });

  it('does not deliver a replayed job whose outcome was already reported', async () => {
    const m = await store([{ address: 'once@example.net' }]);
    const job: DeliveryJobData = {
      messageId: m.messageId,
      route: 'remote',
      destination: 'example.net',
      recipientIds: [m.id('once@example.net')],
      attempt: 1,
    };
    const w = start();
    expect(await w.process(job)).toMatchObject({ result: 'reported' });
    expect(await w.process(job)).toEqual({ result: 'skipped', reason: 'outcome already reported' });
    // The same job taken again by BullMQ after a stall: its second start looks the outcome up.
    const restarted = { id: 'delivery/replayed', attemptsStarted: 2 } as Job;
    expect(await w.process(job, restarted)).toEqual({
      result: 'skipped',
      reason: 'outcome already reported',
    });
    expect(remote.requests).toHaveLength(1);
  });

  it('on close, stops taking jobs and aborts a delivery that outlives the grace time; its recipients are reported deferred', async () => {
    const m = await store([{ address: 'slow@example.net' }]);
    const job: DeliveryJobData = {
      messageId: m.messageId,
      route: 'remote',
      destination: 'example.net',
      recipientIds: [m.id('slow@example.net')],
      attempt: 1,
    };
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    remote.answer = (r) =>
      new Promise<DeliveryReport>((resolve) => {
        started();
        r.signal?.addEventListener('abort', () =>
          resolve({
            status: 'attempted',
            results: allRecipients(r, {
              kind: 'deferred',
              code: 451,
              enhanced: '4.4.2',
              text: 'delivery interrupted by shutdown',
              source: 'local',
            }),
          }),
        );
      });
    const w = start({ shutdownGraceMs: 200 });
    await producer.enqueue(QueueName.Delivery, job);
    await running;
    await w.close();
    const outcome = await outcomeOf(job);
    expect(outcome?.results).toEqual([
      expect.objectContaining({ kind: 'deferred', code: 451, text: 'delivery interrupted by shutdown' }),
    ]);
    const state = await (
      await producer.queue(QueueName.Delivery).getJob(jobIdOf[QueueName.Delivery](job) ?? '')
    )?.getState();
    expect(state).toBe('completed');
  });

  it('exports its counters', async () => {
    const registry = new Registry();
    const m = await store([{ address: 'c@example.net' }]);
    const w = new DeliveryWorker(
      { pool, producer, connection, prefix: testRedis.prefix, agents: { remote, local }, logger, registry },
      {},
    );
    await w.process(
      {
        messageId: m.messageId,
        route: 'remote',
        destination: 'example.net',
        recipientIds: [m.id('c@example.net')],
        attempt: 1,
      } as DeliveryJobData,
      undefined as unknown as Job,
    );
    const text = await registry.metrics();
    expect(text).toMatch(/mta_delivery_jobs_total\{result="reported"\} 1/);
    expect(text).toMatch(/mta_delivery_recipients_total\{kind="delivered",route="remote"\} 1/);
    expect(text).toMatch(/mta_delivery_tls_recipients_total\{tls="no"\} 1/);

    // A deferral over TLS: counted by its reason, and in the TLS share.
    remote.answer = (r) => ({
      status: 'attempted',
      results: allRecipients(r, {
        kind: 'deferred',
        code: 451,
        enhanced: '4.7.1',
        text: 'greylisted, try again later',
        source: 'remote',
        tls: {
          protocol: 'TLSv1.3',
          cipher: 'TLS_AES_256_GCM_SHA384',
          servername: 'mx.example.net',
          authorized: true,
          authorizationError: null,
          peerSubject: 'CN=mx.example.net',
          peerIssuer: 'CN=Example CA',
          peerFingerprint256: null,
        },
        tlsPolicy: 'mta-sts',
      }),
    });
    const d = await store([{ address: 'd@example.net' }]);
    await w.process(
      {
        messageId: d.messageId,
        route: 'remote',
        destination: 'example.net',
        recipientIds: [d.id('d@example.net')],
        attempt: 1,
      } as DeliveryJobData,
      undefined as unknown as Job,
    );
    const after = await registry.metrics();
    expect(after).toMatch(/mta_delivery_deferrals_total\{reason="4.7.1",source="remote"\} 1/);
    expect(after).toMatch(/mta_delivery_tls_recipients_total\{tls="yes"\} 1/);
    expect(after).toMatch(/mta_delivery_tls_recipients_total\{tls="no"\} 1/);
    expect(after).toMatch(
      /mta_delivery_tls_attempts_total\{policy="mta-sts",version="TLSv1.3",verified="yes",kind="deferred"\} 1/,
    );
  });
});
