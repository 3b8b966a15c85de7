/**
 * Issue #15, "rollouts and drains that lose nothing", on the built `mx` bundle: SIGTERM to mx
 * with 50 sessions open under load. What a sender and Kubernetes rely on:
 * - `/readyz` turns 503 (the endpoint is removed) while the process still runs;
 * - a new connection during the drain window is told `421 4.3.2` (RFC 5321 §3.8), not refused;
 * - a session in the middle of DATA finishes its message and gets its 250 after the commit;
 * - every message that got a 250 is stored, with its `accepted` job in Redis, and no other;
 * - the process exits by itself with code 0 within Kubernetes' grace period.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { createPrismaClient, type PrismaClient } from '@mta/db';
import { JobProducer, QueueName, createRedisConnection, redisReady } from '@mta/queue';
import {
  collectJsonLogs,
  createTestDatabase,
  createTestRedis,
  freePort,
  until,
  type TestDatabase,
} from '@mta/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../../..');
const main = path.join(root, 'dist/apps/mx/main.js');
/** terminationGracePeriodSeconds of the manifests (k8s/, README "Draining"): our SIGKILL. */
const GRACE_MS = 35_000;
const SHUTTING_DOWN = /^421 4\.3\.2 /;

/** One SMTP session over a plain socket: send a line, read the (multi-line) reply. */
class Session {
  private buffered = '';
  private waiting: (() => void) | null = null;
  closed = false;
  /** The server said 421 4.3.2 at some point. */
  toldShuttingDown = false;

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffered += chunk;
      this.waiting?.();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.();
    });
  }

  static open(port: number): Promise<Session> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' }, () => resolve(new Session(socket)));
      socket.once('error', reject);
    });
  }

  /** The next reply, or null when the server closed without one. */
  async reply(): Promise<string | null> {
    for (;;) {
      const m = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(this.buffered);
      if (m) {
        this.buffered = this.buffered.slice(m[0].length);
        const last = m[0].trimEnd().split('\r\n').pop() ?? '';
        if (SHUTTING_DOWN.test(last)) this.toldShuttingDown = true;
        return last;
      }
      if (this.closed) return null;
      await new Promise<void>((resolve) => (this.waiting = resolve));
      this.waiting = null;
    }
  }

  write(text: string): void {
    if (!this.closed) this.socket.write(text);
  }

  async cmd(line: string): Promise<string | null> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  end(): void {
    this.socket.destroy();
  }
}

const message = (id: string, part: 'head' | 'tail' | 'all') => {
  const head = `From: <s@sender.test>\r\nTo: <u@local.test>\r\nSubject: ${id}\r\nMessage-ID: <${id}>\r\n\r\n`;
  const tail = `${'body line\r\n'.repeat(20)}.\r\n`;
  return part === 'head' ? head : part === 'tail' ? tail : head + tail;
};

/** Opens a transaction up to DATA; null when the server said anything else (421 at the drain). */
async function startData(s: Session): Promise<boolean> {
  for (const line of ['MAIL FROM:<s@sender.test>', 'RCPT TO:<u@local.test>', 'DATA']) {
    const r = await s.cmd(line);
    if (r === null || !/^(250|354) /.test(r)) return false;
  }
  return true;
}

describe('mx drain on SIGTERM (issue #15)', () => {
  let database: TestDatabase;
  let db: PrismaClient;
  let testRedis: Awaited<ReturnType<typeof createTestRedis>>;
  let redis: Redis;
  let producer: JobProducer;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createPrismaClient(database.url);
    await db.domain.create({ data: { name: 'local.test', type: 'local', acceptAll: true } });
    testRedis = await createTestRedis();
    redis = createRedisConnection(testRedis.url, 'client');
    await redisReady(redis);
    producer = new JobProducer(redis, testRedis.prefix);
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await producer?.close();
    redis?.disconnect();
    await db?.$disconnect();
    await database?.drop();
    await testRedis?.cleanup();
  }, 60_000);

  it('with 50 sessions under load: readyz 503, 421 to new connections, mid-DATA messages get their 250, every 250 stored, exit 0', async () => {
    const smtpPort = await freePort();
    const httpPort = await freePort();
    child = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        NODE_ENV: 'development',
        DATABASE_URL: database.url,
        REDIS_URL: testRedis.url,
        REDIS_PREFIX: testRedis.prefix,
        MTA_HOSTNAME: 'mx.drain.test',
        MX_LISTEN: `127.0.0.1:${smtpPort}`,
        HEALTH_LISTEN: `127.0.0.1:${httpPort}`,
        // Longer than the default 10 s, so that a loaded CI machine has time for the checks
        // that happen inside the window; the exit must still come within the 25 s bound.
        SMTP_DRAIN_MS: '15000',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const logs = collectJsonLogs(child.stdout, 'mx-drain');
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child?.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const readyz = () =>
      fetch(`http://127.0.0.1:${httpPort}/readyz`).then(
        (r) => r.status,
        () => 0,
      );
    await until('mx ready', async () => (await readyz()) === 200, 30_000);

    const sessions = await Promise.all(Array.from({ length: 50 }, () => Session.open(smtpPort)));
    for (const s of sessions) {
      expect(await s.reply()).toMatch(/^220 /);
      expect(await s.cmd('EHLO client.test')).toMatch(/^250 /);
    }
    // 10 sessions stop in the middle of a message body; 40 send messages in a loop (the load).
    const holders = sessions.slice(0, 10);
    const loopers = sessions.slice(10);
    for (const [i, s] of holders.entries()) {
      expect(await startData(s)).toBe(true);
      s.write(message(`held-${i}@drain.test`, 'head'));
    }
    const accepted: string[] = [];
    let n = 0;
    const loops = loopers.map(async (s) => {
      for (;;) {
        const id = `loop-${n++}@drain.test`;
        if (!(await startData(s))) return s.toldShuttingDown ? '421' : 'cut';
        const r = await s.cmd(message(id, 'all').slice(0, -2));
        if (r?.startsWith('250 ')) accepted.push(id);
        else return s.toldShuttingDown ? '421' : `cut after DATA: ${r}`;
      }
    });
    await until('100 messages accepted under load', () => accepted.length >= 100, 60_000);

    const t0 = Date.now();
    child.kill('SIGTERM');
    await until('/readyz says 503', async () => (await readyz()) === 503, 10_000);
    // New connections during the window: told 421 4.3.2, not refused.
    for (let i = 0; i < 5; i++) {
      const late = await Session.open(smtpPort);
      expect(await late.reply()).toMatch(SHUTTING_DOWN);
      late.end();
    }
    // The messages in the middle of DATA complete: 250 after the commit, then 421.
    for (const [i, s] of holders.entries()) {
      expect(await s.cmd(message(`held-${i}@drain.test`, 'tail').slice(0, -2))).toMatch(/^250 /);
      accepted.push(`held-${i}@drain.test`);
      expect(await s.reply()).toMatch(SHUTTING_DOWN);
    }
    // Every looping session was told 421 (at its next command or at once when idle).
    const ends = await Promise.all(loops);
    expect(ends.filter((e) => e !== '421')).toEqual([]);

    const timer = setTimeout(() => child?.kill('SIGKILL'), GRACE_MS);
    const exit = await exited;
    clearTimeout(timer);
    console.log(
      `mx: ${accepted.length} messages accepted; exited ${JSON.stringify(exit)} ${((Date.now() - t0) / 1000).toFixed(1)} s after SIGTERM`,
    );
    expect(exit).toEqual({ code: 0, signal: null });
    expect(logs.some((l) => l['msg'] === 'shutdown complete')).toBe(true);

    // Every message that got a 250 is stored, and nothing else.
    const stored = await db.message.findMany({ select: { id: true, messageIdHeader: true } });
    const ids = stored.map((m) => (m.messageIdHeader ?? '').replace(/^\s*<|>\s*$/g, ''));
    expect(ids.sort()).toEqual([...accepted].sort());
    // ...and its `accepted` job is in Redis (the queue manager routes it; nothing waits for the reconciler).
    const jobs = await producer.queue(QueueName.Accepted).getJobs(['waiting', 'prioritized', 'delayed']);
    const queued = new Set(jobs.flatMap((j) => (j?.data as { messageIds: string[] }).messageIds));
    expect(stored.filter((m) => !queued.has(m.id))).toEqual([]);
    for (const s of sessions) s.end();
  }, 180_000);
});
