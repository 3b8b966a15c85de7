/**
 * Integration-test harness of this library (not exported): a QueueManager on a real PostgreSQL
 * database and a real Redis prefix, a fake delivery worker that answers `delivery` jobs with
 * scripted per-recipient results, and a helper that stores messages the way intake does.
 */
import {
  createPgPool,
  createPrismaClient,
  newQueueId,
  readMessageBuffer,
  type DsnNotify,
  type PrismaClient,
} from '@mta/db';
import { createLogger } from '@mta/observability';
import {
  JobProducer,
  QueueName,
  createJobWorker,
  createRedisConnection,
  redisReady,
  type JobData,
} from '@mta/queue';
import { createTestDatabase, createTestRedis, until } from '@mta/testing';
import type { Worker } from 'bullmq';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { simpleParser, type ParsedMail } from 'mailparser';
import { Registry } from 'prom-client';
import { QueueManager } from '../queue-manager';
import type { QueueManagerOptions } from '../context';

export type Reply = {
  kind: 'delivered' | 'deferred' | 'failed';
  code: number;
  enhanced?: string;
  text: string;
  /** What a remote delivery reports: the next hop offered DSN (RFC 3461 §5.2.2). */
  nextHopDsn?: boolean;
};
export const OK: Reply = { kind: 'delivered', code: 250, enhanced: '2.0.0', text: 'Ok: queued' };
export const LATER: Reply = {
  kind: 'deferred',
  code: 450,
  enhanced: '4.2.1',
  text: 'Mailbox busy, try later',
};
export const NO_SUCH_USER: Reply = {
  kind: 'failed',
  code: 550,
  enhanced: '5.1.1',
  text: 'No such user here',
};

export interface Delivery {
  jobId: string;
  destination: string;
  route: string;
  attempt: number;
  addresses: string[];
  at: number;
}

/** Answers delivery jobs: each address takes the next scripted reply, then OK forever. */
export class FakeDelivery {
  readonly deliveries: Delivery[] = [];
  private readonly script = new Map<string, Reply[]>();
  private worker?: Worker;

  constructor(
    private readonly db: PrismaClient,
    private readonly producer: JobProducer,
  ) {}

  answer(address: string, ...replies: Reply[]): void {
    this.script.set(address, [...(this.script.get(address) ?? []), ...replies]);
  }

  start(connection: Redis, prefix: string): void {
    this.worker = createJobWorker(
      QueueName.Delivery,
      async (job, raw) => {
        const rows = await this.db.recipient.findMany({ where: { id: { in: job.recipientIds } } });
        this.deliveries.push({
          jobId: raw.id ?? '',
          destination: job.destination,
          route: job.route,
          attempt: job.attempt,
          addresses: rows.map((r) => r.address).sort(),
          at: Date.now(),
        });
        const results = rows.map((r) => {
          const next = this.script.get(r.address)?.shift() ?? OK;
          return {
            recipientId: r.id,
            ...next,
            remote: { host: `mx.${r.domain}`, address: '192.0.2.25', port: 25 },
            tls: null,
          };
        });
        const outcome: JobData<QueueName.Outcome> = {
          messageId: job.messageId,
          route: job.route,
          destination: job.destination,
          attempt: job.attempt,
          results,
        };
        await this.producer.enqueue(QueueName.Outcome, outcome);
      },
      { connection, prefix, concurrency: 4 },
    );
  }

  /** How many times an address was handed to delivery. */
  count(address: string): number {
    return this.deliveries.filter((d) => d.addresses.includes(address)).length;
  }

  async stop(): Promise<void> {
    await this.worker?.close();
  }
}

export interface MessageSpec {
  sender?: string;
  recipients: {
    address: string;
    route?: 'local' | 'remote' | 'relay';
    notify?: DsnNotify[];
    orcpt?: string;
    held?: boolean;
  }[];
  ret?: 'FULL' | 'HDRS';
  /** MAIL FROM ... REQUIRETLS (RFC 8689). */
  requireTls?: boolean;
  envid?: string;
  subject?: string;
  body?: string;
  state?: 'received' | 'held';
  /** Enqueue the `accepted` job (as intake does). Default true. */
  enqueue?: boolean;
  receivedAt?: Date;
}

export class Harness {
  readonly db: PrismaClient;
  readonly pool: pg.Pool;
  readonly redis: Redis;
  readonly workerConnection: Redis;
  readonly producer: JobProducer;
  readonly fake: FakeDelivery;
  readonly qm: QueueManager;
  readonly registry = new Registry();

  constructor(
    dbUrl: string,
    redisUrl: string,
    readonly prefix: string,
    options: QueueManagerOptions,
  ) {
    this.db = createPrismaClient(dbUrl);
    this.pool = createPgPool(dbUrl);
    this.redis = createRedisConnection(redisUrl, 'client');
    this.workerConnection = createRedisConnection(redisUrl, 'worker');
    this.producer = new JobProducer(this.redis, prefix);
    this.fake = new FakeDelivery(this.db, this.producer);
    this.qm = new QueueManager(
      {
        db: this.db,
        pool: this.pool,
        producer: this.producer,
        redis: this.redis,
        workerConnection: this.workerConnection,
        prefix,
        logger: createLogger(
          'queue-test',
          (process.env['TEST_LOG_LEVEL'] as 'silent' | undefined) ?? 'silent',
        ),
        registry: this.registry,
        hostname: 'mta.test',
      },
      options,
    );
  }

  async start(): Promise<void> {
    await redisReady(this.redis);
    this.fake.start(this.workerConnection, this.prefix);
    await this.qm.start();
  }

  async close(): Promise<void> {
    await this.fake.stop();
    await this.qm.stop();
    await this.producer.close();
    this.redis.disconnect();
    this.workerConnection.disconnect();
    await this.db.$disconnect();
    await this.pool.end();
  }

  async store(spec: MessageSpec): Promise<{ id: string; queueId: string; rcpt: Record<string, string> }> {
    const queueId = newQueueId();
    const subject = spec.subject ?? 'Test message';
    const body =
      spec.body ??
      `From: <${spec.sender || 'nobody@example.net'}>\r\nTo: <${spec.recipients[0].address}>\r\nSubject: ${subject}\r\n` +
        `Message-ID: <${queueId}@example.net>\r\n\r\nHello, this is the original body ${queueId}.\r\n`;
    const data = Buffer.from(body);
    const msg = await this.db.message.create({
      data: {
        queueId,
        source: 'submission',
        sender: spec.sender ?? 'alice@example.net',
        state: spec.state ?? 'received',
        clientAddress: '192.0.2.1',
        clientHelo: 'client.example.net',
        size: data.length,
        subject,
        dsnRet: spec.ret ?? null,
        requireTls: spec.requireTls ?? false,
        dsnEnvid: spec.envid ?? null,
        receivedAt: spec.receivedAt ?? new Date(),
        recipients: {
          createMany: {
            data: spec.recipients.map((r) => ({
              address: r.address,
              domain: r.address.split('@')[1].toLowerCase(),
              route: r.route ?? 'remote',
              status: r.held ? ('held' as const) : ('queued' as const),
              dsnNotify: r.notify ?? [],
              dsnOrcpt: r.orcpt ?? null,
              nextAttemptAt: new Date(),
            })),
          },
        },
        chunks: { create: [{ seq: 0, data: data as Uint8Array<ArrayBuffer> }] },
        events: { create: { type: 'accepted', queueId } },
      },
      include: { recipients: true },
    });
    if (spec.enqueue ?? true) await this.producer.enqueue(QueueName.Accepted, { messageIds: [msg.id] });
    return { id: msg.id, queueId, rcpt: Object.fromEntries(msg.recipients.map((r) => [r.address, r.id])) };
  }

  async recipient(id: string) {
    return this.db.recipient.findUniqueOrThrow({ where: { id } });
  }

  /** DSN messages (source bounce) sent to `to`, parsed. */
  async dsnsTo(
    to: string,
  ): Promise<{ id: string; sender: string; route: string | null; parsed: ParsedMail; raw: string }[]> {
    const rows = await this.db.message.findMany({
      where: { source: 'bounce', recipients: { some: { address: to } } },
      include: { recipients: true },
      orderBy: { createdAt: 'asc' },
    });
    return Promise.all(
      rows.map(async (m) => {
        const raw = await readMessageBuffer(this.db, m.id);
        return {
          id: m.id,
          sender: m.sender,
          route: m.recipients[0].route,
          parsed: await simpleParser(raw, { keepDeliveryStatus: true }),
          raw: raw.toString('utf8'),
        };
      }),
    );
  }
}

/** A fast schedule: retries after 300 ms, 600 ms, capped at 1 s; no expiry or delay warning. */
export const FAST_SCHEDULE = {
  firstRetryMs: 300,
  multiplier: 2,
  maxIntervalMs: 1000,
  jitter: 0,
  expireAfterMs: 3_600_000,
  delayWarningAfterMs: 3_600_000,
};

/**
 * A started Harness on a fresh test database and Redis prefix, for one spec file; `setup` runs
 * before the queue manager starts. `close` stops it and drops the database and the keys;
 * `forgetRedis` deletes every key under the prefix (Redis losing its data).
 */
export async function openHarness(
  options: QueueManagerOptions,
  setup?: (h: Harness) => Promise<unknown>,
): Promise<{ h: Harness; close: () => Promise<void>; forgetRedis: () => Promise<void> }> {
  const [database, redis] = await Promise.all([createTestDatabase(), createTestRedis()]);
  const h = new Harness(database.url, redis.url, redis.prefix, options);
  await setup?.(h);
  await h.start();
  return {
    h,
    close: async () => {
      await h.close();
      await redis.cleanup();
      await database.drop();
    },
    forgetRedis: () => redis.cleanup(),
  };
}

/** Polls `check` until it returns a truthy value (or throws the last error after `timeoutMs`). */
export const waitFor = <T>(check: () => Promise<T> | T, timeoutMs = 10_000, what = 'condition'): Promise<T> =>
  until(what, check, timeoutMs, 50);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
