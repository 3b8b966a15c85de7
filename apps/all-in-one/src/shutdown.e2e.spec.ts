/**
 * Issue #5, graceful shutdown, end to end on the built bundle: "on SIGTERM a worker stops taking
 * jobs, finishes or hands back the ones in flight, and exits".
 *
 * The remote MX here is a small SMTP server in this process that takes every message up to the
 * final dot and then does not answer (a peer that stalls, or is just slow): every delivery job
 * of the all-in-one is in flight when it gets SIGTERM. It must exit by itself, with code 0,
 * within its shutdown bound (libs/runtime/src/shutdown.ts, under Kubernetes' default
 * terminationGracePeriodSeconds of 30 s), and the interrupted deliveries must not be lost: the
 * next process delivers every message once the MX answers again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { createPrismaClient, newQueueId, type PrismaClient } from '@mta/db';
import { JobProducer, QueueName, createRedisConnection, redisReady } from '@mta/queue';
import {
  aRecord,
  createTestDatabase,
  createTestRedis,
  freePort,
  mxRecord,
  startFakeDns,
  type TestDatabase,
  until,
  collectJsonLogs,
} from '@mta/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../../..');
const main = path.join(root, 'dist/apps/all-in-one/main.js');

/**
 * A minimal SMTP server: `stall` holds every transaction after the final dot without a reply
 * (the client waits for it, RFC 5321 §4.5.3.2.6 allows 10 minutes); `accept` answers 250.
 */
class SlowMx {
  mode: 'stall' | 'tarpit' | 'accept' = 'stall';
  /** Sessions given no greeting (tarpit) right now. */
  tarpitted = 0;
  /** Transactions held at the final dot right now. */
  stalled = 0;
  /** Message-IDs accepted (250 after the dot). */
  readonly accepted: string[] = [];
  private readonly sockets = new Set<net.Socket>();
  private readonly server = net.createServer((socket) => this.session(socket));

  async listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }

  private session(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    let buffered = '';
    let data: string[] | null = null;
    let held = false;
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (held) this.stalled--;
    });
    if (this.mode === 'tarpit') {
      this.tarpitted++;
      socket.on('close', () => this.tarpitted--);
      return;
    }
    socket.write('220 mx.slow.test ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      let i: number;
      while ((i = buffered.indexOf('\r\n')) !== -1) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 2);
        if (data) {
          if (line !== '.') {
            data.push(line);
            continue;
          }
          const id = /^Message-ID:\s*<([^>]*)>/im.exec(data.join('\n'))?.[1] ?? '';
          data = null;
          if (this.mode === 'stall') {
            held = true;
            this.stalled++;
          } else {
            this.accepted.push(id);
            socket.write('250 2.0.0 Ok: queued\r\n');
          }
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') socket.write('250-mx.slow.test\r\n250 8BITMIME\r\n');
        else if (verb === 'DATA') {
          data = [];
          socket.write('354 End data with <CR><LF>.<CR><LF>\r\n');
        } else if (verb === 'QUIT') socket.end('221 2.0.0 Bye\r\n');
        else socket.write('250 2.0.0 Ok\r\n');
      }
    });
  }
}

class App {
  readonly logs: Record<string, unknown>[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess) {
    this.logs = collectJsonLogs(child.stdout, String(child.pid));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static async start(env: NodeJS.ProcessEnv, httpPort: number): Promise<App> {
    const app = new App(
      spawn(process.execPath, [main], {
        // One process: this file tests one service's drain (supervise.e2e.spec.ts the supervisor's).
        env: { ...process.env, ALL_IN_ONE_MODE: 'single', ...env },
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    await until('all-in-one to start', async () => (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok);
    return app;
  }

  /** A SIGKILL safety net for the test only: the process must not need it. */
  async killAfter(ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), ms);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

describe('all-in-one graceful shutdown (issue #5)', () => {
  let database: TestDatabase;
  let db: PrismaClient;
  let testRedis: Awaited<ReturnType<typeof createTestRedis>>;
  let dns: Awaited<ReturnType<typeof startFakeDns>>;
  let redis: Redis;
  let producer: JobProducer;
  const mx = new SlowMx();
  let env: NodeJS.ProcessEnv;
  let httpPort: number;
  const apps: App[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createPrismaClient(database.url);
    testRedis = await createTestRedis();
    dns = await startFakeDns([
      mxRecord('slow.test', 10, 'mx.slow.test'),
      aRecord('mx.slow.test', '127.0.0.1'),
    ]);
    const mxPort = await freePort();
    await mx.listen('127.0.0.1', mxPort);
    httpPort = await freePort();
    env = {
      NODE_ENV: 'development',
      DATABASE_URL: database.url,
      REDIS_URL: testRedis.url,
      REDIS_PREFIX: testRedis.prefix,
      MTA_HOSTNAME: 'mta.shutdown.test',
      ADMIN_LISTEN: `127.0.0.1:${httpPort}`,
      MX_LISTEN: `127.0.0.1:${await freePort()}`,
      SUBMISSION_LISTEN: `127.0.0.1:${await freePort()}`,
      SUBMISSIONS_LISTEN: `127.0.0.1:${await freePort()}`,
      DNS_SERVERS: `127.0.0.1:${dns.port}`,
      DELIVERY_PORT: String(mxPort),
      LOCAL_DELIVERY: 'maildir:/nonexistent',
      DELIVERY_LOCK_MS: '2000',
      LOG_LEVEL: 'info',
    };
    redis = createRedisConnection(testRedis.url, 'client');
    await redisReady(redis);
    producer = new JobProducer(redis, testRedis.prefix);
  });

  afterAll(async () => {
    for (const app of apps)
      if (app.child.exitCode === null && app.child.signalCode === null) app.child.kill('SIGKILL');
    await producer?.close();
    redis?.disconnect();
    await mx.close();
    await dns?.close();
    await db?.$disconnect();
    await database?.drop();
    await testRedis?.cleanup();
  }, 60_000);

  /** `n` routed-to-be messages to slow.test, stored as intake would, and their `accepted` jobs. */
  async function store(run: string, n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const mid = `${run}-${i}@shutdown.test`;
      ids.push(mid);
      const to = `user${i}@slow.test`;
      const data = Buffer.from(
        `From: <alice@sender.test>\r\nTo: <${to}>\r\nSubject: ${run} ${i}\r\nMessage-ID: <${mid}>\r\n\r\nbody ${i}\r\n`,
      );
      const m = await db.message.create({
        data: {
          queueId: newQueueId(),
          sender: 'alice@sender.test',
          source: 'submission',
          size: data.length,
          clientAddress: '127.0.0.1',
          messageIdHeader: mid,
          subject: `${run} ${i}`,
          recipients: { create: [{ address: to, domain: 'slow.test', nextAttemptAt: new Date() }] },
          chunks: { create: [{ seq: 0, data: Uint8Array.from(data) }] },
        },
      });
      await producer.enqueue(QueueName.Accepted, { messageIds: [m.id] });
    }
    return ids;
  }

  it.each([
    ['held at the final dot (the MX does not answer it)', 'stall', 'run1'],
    ['waiting for the greeting (the MX accepts the connection and says nothing)', 'tarpit', 'run2'],
    ['busy (a run of 1,000 messages to an MX that accepts)', 'accept', 'run3'],
  ] as const)(
    'SIGTERM with every delivery %s: exits by itself, code 0, within 30 s; the next process delivers every message',
    async (_what, mode, run) => {
      mx.mode = mode;
      const app = await App.start(env, httpPort);
      apps.push(app);
      const ids = await store(run, mode === 'accept' ? 1000 : 10);
      if (mode === 'accept') await until('100 delivered', () => mx.accepted.length >= 100, 60_000);
      else
        await until(
          '10 deliveries in flight',
          () => (mode === 'stall' ? mx.stalled : mx.tarpitted) === 10,
          30_000,
        );

      const t0 = Date.now();
      app.child.kill('SIGTERM');
      const exit = await app.killAfter(45_000);
      const seconds = (Date.now() - t0) / 1000;
      console.log(`${mode}: all-in-one exited ${JSON.stringify(exit)} ${seconds.toFixed(1)} s after SIGTERM`);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(seconds).toBeLessThan(30);

      // Nothing lost: the MX answers again, a new process finishes every message.
      mx.mode = 'accept';
      const next = await App.start(env, httpPort);
      apps.push(next);
      const undelivered = () =>
        db.recipient.count({
          where: { status: { not: 'delivered' }, message: { messageIdHeader: { startsWith: `${run}-` } } },
        });
      await until(
        'every message delivered',
        async () => {
          // The retry schedule is minutes away: run the due retries now (their delayed jobs).
          for (const job of await producer.queue(QueueName.Delivery).getJobs(['delayed']))
            await job?.promote().catch(() => undefined);
          return (await undelivered()) === 0;
        },
        60_000,
      );
      expect(ids.filter((id) => !mx.accepted.includes(id))).toEqual([]);
      next.child.kill('SIGTERM');
      expect(await next.killAfter(45_000)).toEqual({ code: 0, signal: null });
    },
    240_000,
  );
});
