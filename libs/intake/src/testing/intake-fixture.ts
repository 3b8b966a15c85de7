/** Starts the real mx/submission services on loopback with a fresh database, for the intake tests. */
import { loadConfig } from '@mta/config';
import { createPgPool, createPrismaClient, type PrismaClient } from '@mta/db';
import { createLogger, Metrics } from '@mta/observability';
import { createRedisConnection, JobProducer, redisReady } from '@mta/queue';
import {
  createTestDatabase,
  createTestRedis,
  startFakeDnsServer,
  startTcpProxy,
  type FakeDnsServer,
  type FakeRecord,
  type Fault,
  type TcpProxy,
  type TestDatabase,
} from '@mta/testing';
import { hashPassword } from '@mta/auth';
import { startMx, startSubmission, type RunningSmtpService, type SmtpServiceContext } from '../smtp-service';

export interface IntakeFixture {
  db: PrismaClient;
  /** PostgreSQL as the services see it: stop() it to take the database away. */
  postgres: TcpProxy;
  producer: JobProducer;
  metrics: Metrics;
  prefix: string;
  /**
   * The services' DNS (DNS_SERVERS): a loopback server answering from `dnsRecords`, which a test
   * may add to; anything else is NXDOMAIN at once, so no test waits for a real resolver.
   */
  dns: FakeDnsServer;
  dnsRecords: FakeRecord[];
  /** misbehaviour by owner name (`drop`: a timeout), read at each question */
  dnsFaults: Record<string, Fault>;
  start(
    service: 'mx' | 'submission',
    env?: Record<string, string>,
    overrides?: Partial<Pick<SmtpServiceContext, 'flowControl' | 'logger'>>,
  ): Promise<RunningSmtpService & { ports: number[] }>;
  close(): Promise<void>;
}

export async function intakeFixture(): Promise<IntakeFixture> {
  const database: TestDatabase = await createTestDatabase();
  const postgres = await startTcpProxy(Number(new URL(database.url).port || 5432));
  const db = createPrismaClient(postgres.via(database.url));
  const pool = createPgPool(postgres.via(database.url));
  const redis = await createTestRedis();
  const redisClient = createRedisConnection(redis.url, 'client');
  await redisReady(redisClient);
  const producer = new JobProducer(redisClient, redis.prefix);
  const metrics = new Metrics('test');
  const running: RunningSmtpService[] = [];
  const dnsRecords: FakeRecord[] = [];
  const dnsFaults: Record<string, Fault> = {};
  const dns = await startFakeDnsServer({ records: dnsRecords, faults: dnsFaults });

  await db.domain.createMany({
    data: [
      { name: 'local.example', type: 'local' },
      { name: 'catchall.example', type: 'local', acceptAll: true },
      { name: 'relay.example', type: 'relay' },
    ],
  });
  const local = await db.domain.findUniqueOrThrow({ where: { name: 'local.example' } });
  await db.account.create({
    data: {
      address: 'alice@local.example',
      passwordHash: await hashPassword('correct horse battery staple', { ln: 12, r: 8, p: 1 }),
      domainId: local.id,
      sendAs: { create: [{ address: 'sales@local.example' }] },
    },
  });

  return {
    db,
    postgres,
    producer,
    metrics,
    prefix: redis.prefix,
    dns,
    dnsRecords,
    dnsFaults,
    async start(service, env = {}, overrides = {}) {
      const config = loadConfig({
        MTA_HOSTNAME: 'mx.test.example',
        MX_LISTEN: '127.0.0.1:0',
        SUBMISSION_LISTEN: '127.0.0.1:0',
        SUBMISSIONS_LISTEN: '127.0.0.1:0',
        REDIS_PREFIX: redis.prefix,
        DNS_SERVERS: `${dns.host}:${dns.port}`,
        ...env,
      });
      const ctx = {
        config,
        db,
        pool,
        producer,
        redis: redisClient,
        logger: createLogger(service, 'silent'),
        metrics,
        authThrottle: { baseDelayMs: 20, maxDelayMs: 100, maxPerAccount: 5, maxPerIp: 20 },
        ...overrides,
      };
      const started = service === 'mx' ? await startMx(ctx) : await startSubmission(ctx);
      running.push(started);
      return { ...started, ports: started.addresses.map((a) => Number(a.split(':').pop())) };
    },
    async close() {
      await Promise.all(running.map((r) => r.close()));
      await producer.close();
      redisClient.disconnect();
      await db.$disconnect();
      await pool.end();
      await postgres.close();
      await database.drop();
      await redis.cleanup();
      await dns.close();
    },
  };
}
