/**
 * Issue #5 end to end: mail goes in through submission (swaks, AUTH over STARTTLS) or mx, through
 * the queue manager and the delivery workers of the built bundles, and out to real peers on
 * loopback: Postfix smtp-sink as remote MXs (127.0.0.2-6, one port, as DELIVERY_PORT is), a DNS
 * server in this process (DNS_SERVERS), Maildir in a temp dir and Dovecot LMTP.
 *
 * The retry schedule of the queue manager is not configurable from the environment (yet), so a
 * retry "is due" here by promoting its delayed BullMQ job: the same job the schedule would run.
 *
 * Delivery is at least once (libs/delivery/src/worker/delivery-worker.ts): a worker killed after
 * the remote end took a message and before its outcome job is in Redis leaves a stalled job that
 * another worker delivers again. The SIGKILL case counts and reports those duplicates and holds
 * them to that window: at most the jobs the killed worker had running.
 *
 * `E2E_LOG_DIR=<dir>` keeps each process's JSON log there (`<pid>.log`), for debugging.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { hashPassword } from '@mta/auth';
import { createPrismaClient, newQueueId, readMessageBuffer, type PrismaClient } from '@mta/db';
import { JobProducer, QueueName, createRedisConnection, redisReady } from '@mta/queue';
import {
  aRecord,
  createTestDatabase,
  createTestRedis,
  freePort,
  haveDovecotLmtp,
  mxRecord,
  portFreeOn,
  startDovecot,
  startFakeDns,
  waitForPort,
  type Dovecot,
  type TestDatabase,
  until,
  collectJsonLogs,
  parseSmtpSinkDump,
  requirePeer,
  haveSwaks,
  runSwaks as swaks,
} from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../../..');
const main = path.join(root, 'dist/apps/all-in-one/main.js');
const SMTP_SINK = '/usr/sbin/smtp-sink';
const havePeers = requirePeer('smtp-sink', existsSync(SMTP_SINK)) && requirePeer('swaks', haveSwaks());

const PASSWORD = 'a long enough password 42';
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const asLf = (b: Buffer) => b.toString('latin1').replace(/\r\n/g, '\n');
/** The part after the header block. */
const bodyOf = (text: string) => text.slice(text.indexOf('\n\n') + 2);

// ---------------------------------------------------------------------------------------------
// Peers
// ---------------------------------------------------------------------------------------------

interface Dump {
  file: string;
  meta: Record<string, string[]>;
  /** The message as the sink got it, LF line ends, without the sink's own Received header. */
  content: string;
  subject: string;
  messageId: string;
}

/** A dump file of smtp-sink(1) (parseSmtpSinkDump), with the fields these tests look messages up by. */
function parseDump(file: string, text: string): Dump {
  const { meta, content } = parseSmtpSinkDump(text);
  const header = content.slice(0, content.indexOf('\n\n'));
  return {
    file,
    meta,
    content,
    subject: /^Subject: (.*)$/im.exec(header)?.[1] ?? '',
    messageId: /^Message-ID:\s*<([^>]*)>/im.exec(header)?.[1] ?? '',
  };
}

class Sink {
  private proc?: ChildProcess;
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'e2e-sink-'));
  private readonly seen = new Map<string, Dump>();

  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    chmodSync(this.dir, 0o777); // the sink writes as nobody
  }

  async start(faults: readonly string[] = []): Promise<void> {
    const proc = spawn(
      SMTP_SINK,
      ['-u', 'nobody', '-d', path.join(this.dir, 'msg.'), ...faults, `${this.host}:${this.port}`, '256'],
      { stdio: 'ignore' },
    );
    this.proc = proc;
    await waitForPort(this.port, this.host);
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }

  /** Every complete dump so far (files are read once; a file still being written is read later). */
  dumps(): Dump[] {
    for (const file of readdirSync(this.dir)) {
      if (this.seen.has(file)) continue;
      const text = readFileSync(path.join(this.dir, file), 'latin1');
      if (!text.endsWith('\n\n')) continue;
      this.seen.set(file, parseDump(file, text));
    }
    return [...this.seen.values()];
  }

  bySubject(subject: string): Dump[] {
    return this.dumps().filter((d) => d.subject === subject);
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Files delivered to a Maildir (new/), contents. */
function maildirFiles(maildir: string): string[] {
  const dir = path.join(maildir, 'new');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).map((f) => readFileSync(path.join(dir, f), 'latin1'));
}

// ---------------------------------------------------------------------------------------------
// Our processes
// ---------------------------------------------------------------------------------------------

class App {
  readonly logs: Record<string, unknown>[];
  readonly exited: Promise<string>;

  constructor(readonly child: ChildProcess) {
    this.logs = collectJsonLogs(child.stdout, String(child.pid));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve(String(signal ?? code))),
    );
  }

  static async start(script: string, env: NodeJS.ProcessEnv, httpPort: number): Promise<App> {
    const app = new App(
      spawn(process.execPath, [script], {
        // One process (the supervised mode has its own test, supervise.e2e.spec.ts).
        env: { ...process.env, ALL_IN_ONE_MODE: 'single', ...env },
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    await until(
      `${path.basename(path.dirname(script))} to start`,
      async () => (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok,
    );
    return app;
  }

  count(msg: string): number {
    return this.logs.filter((l) => l['msg'] === msg).length;
  }

  /**
   * SIGTERM (or `signal`). After SIGTERM the process must exit by itself with code 0: the
   * graceful shutdown is bounded (libs/runtime/src/shutdown.ts: 25 s at most, under Kubernetes'
   * 30 s). It once could hang for minutes with jobs in flight (issue #5; the regression test is
   * shutdown.e2e.spec.ts). SIGKILL after `graceMs` stays only as the test's safety net, and
   * needing it fails the test.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000): Promise<string> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      this.child.kill('SIGKILL');
    }, graceMs);
    try {
      const exit = await this.exited;
      if (signal === 'SIGTERM' && (killed || exit !== '0'))
        throw new Error(`after SIGTERM the process did not exit by itself with code 0 (${exit})`);
      return exit;
    } finally {
      clearTimeout(timer);
    }
  }
}

const queueIdOf = (transcript: string): string => {
  const id = /250 2\.0\.0 .*queued as ([0-9A-Z]{16})/.exec(transcript)?.[1];
  if (!id) throw new Error(`not queued:\n${transcript}`);
  return id;
};

/**
 * Deletes every key under `prefix` at one instant (one Lua script), as Redis losing its data
 * would. (A SCAN-and-DEL loop while the MTA runs would leave half-written jobs behind, which no
 * real data loss produces.) Returns how many keys went.
 */
async function flushPrefix(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    return Number(
      await redis.eval(
        `local keys = redis.call('KEYS', ARGV[1])
         for i = 1, #keys, 1000 do redis.call('DEL', unpack(keys, i, math.min(i + 999, #keys))) end
         return #keys`,
        0,
        `${prefix}:*`,
      ),
    );
  } finally {
    redis.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------

const MAIN = '127.0.0.2'; // accepts
const REJECT = '127.0.0.3'; // 550 at RCPT
const DEAD = '127.0.0.4'; // nothing listens: connection refused
const LATER = '127.0.0.5'; // 450 at RCPT, then accepts
const BULK = '127.0.0.6'; // the 1,000-message runs
const HOLD = '127.0.0.7'; // 450 at RCPT until the hold test lets it accept
const ADMIN_TOKEN = 'e2e-delivery-admin-token-0123456789';
const BULK_DOMAINS = Array.from({ length: 10 }, (_, i) => `bulk${i}.test`);

const ZONE = [
  mxRecord('remote.test', 10, 'mx.remote.test'),
  aRecord('mx.remote.test', MAIN),
  mxRecord('reject.test', 10, 'mx.reject.test'),
  aRecord('mx.reject.test', REJECT),
  mxRecord('backup.test', 10, 'mx1.backup.test'),
  aRecord('mx1.backup.test', DEAD),
  mxRecord('backup.test', 20, 'mx2.backup.test'),
  aRecord('mx2.backup.test', MAIN),
  mxRecord('later.test', 10, 'mx.later.test'),
  aRecord('mx.later.test', LATER),
  mxRecord('nullmx.test', 0, '.'),
  ...BULK_DOMAINS.map((d) => mxRecord(d, 10, 'mx.bulk.test')),
  aRecord('mx.bulk.test', BULK),
  mxRecord('hold.test', 10, 'mx.hold.test'),
  aRecord('mx.hold.test', HOLD),
];

describe.skipIf(!havePeers)('delivery end to end (issue #5)', () => {
  let database: TestDatabase;
  let db: PrismaClient;
  let testRedis: Awaited<ReturnType<typeof createTestRedis>>;
  let dns: Awaited<ReturnType<typeof startFakeDns>>;
  let app: App;
  let worker2: App | undefined;
  let env: NodeJS.ProcessEnv;
  let submissionPort: number;
  let mxPort: number;
  let deliveryPort: number;
  let maildir: string;
  let redis: Redis;
  let producer: JobProducer;
  const sinks: Record<'main' | 'reject' | 'later' | 'bulk' | 'hold', Sink> = {} as never;
  let adminBase: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createPrismaClient(database.url);
    testRedis = await createTestRedis();
    dns = await startFakeDns(ZONE);
    deliveryPort = await portFreeOn([MAIN, REJECT, DEAD, LATER, BULK, HOLD]);
    sinks.main = new Sink(MAIN, deliveryPort);
    sinks.reject = new Sink(REJECT, deliveryPort);
    sinks.later = new Sink(LATER, deliveryPort);
    sinks.bulk = new Sink(BULK, deliveryPort);
    sinks.hold = new Sink(HOLD, deliveryPort);
    await Promise.all([
      sinks.main.start(),
      sinks.reject.start(['-f', 'RCPT', '-B', '550 5.1.1 e2e: no such user here']),
      sinks.later.start(['-r', 'RCPT']),
      sinks.bulk.start(),
      sinks.hold.start(['-r', 'RCPT']),
    ]);
    maildir = mkdtempSync(path.join(tmpdir(), 'e2e-maildir-'));
    await db.domain.create({
      data: {
        name: 'sender.test',
        type: 'local',
        accounts: { create: [{ address: 'alice@sender.test', passwordHash: await hashPassword(PASSWORD) }] },
      },
    });
    await db.domain.create({
      data: {
        name: 'local.test',
        type: 'local',
        accounts: { create: [{ address: 'bob@local.test', passwordHash: await hashPassword(PASSWORD) }] },
      },
    });
    const httpPort = await freePort();
    adminBase = `http://127.0.0.1:${httpPort}/api/v1`;
    env = {
      ADMIN_TOKEN,
      NODE_ENV: 'development',
      DATABASE_URL: database.url,
      REDIS_URL: testRedis.url,
      REDIS_PREFIX: testRedis.prefix,
      MTA_HOSTNAME: 'mta.e2e.test',
      ADMIN_LISTEN: `127.0.0.1:${httpPort}`,
      MX_LISTEN: `127.0.0.1:${(mxPort = await freePort())}`,
      SUBMISSION_LISTEN: `127.0.0.1:${(submissionPort = await freePort())}`,
      SUBMISSIONS_LISTEN: `127.0.0.1:${await freePort()}`,
      DNS_SERVERS: `127.0.0.1:${dns.port}`,
      DELIVERY_PORT: String(deliveryPort),
      LOCAL_DELIVERY: `maildir:${maildir}`,
      DELIVERY_LOCK_MS: '2000',
      LOG_LEVEL: 'info',
    };
    app = await App.start(main, env, httpPort);
    redis = createRedisConnection(testRedis.url, 'client');
    await redisReady(redis);
    producer = new JobProducer(redis, testRedis.prefix);
  });

  afterAll(async () => {
    await worker2?.stop('SIGKILL');
    await app?.stop();
    await producer?.close();
    redis?.disconnect();
    await Promise.all(Object.values(sinks).map((s) => s.close()));
    await dns?.close();
    await db?.$disconnect();
    await database?.drop();
    await testRedis?.cleanup();
    if (maildir) rmSync(maildir, { recursive: true, force: true });
  }, 90_000);

  const submit = (to: string[], subject: string, body = 'Hello from e2e.') =>
    swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(submissionPort),
      '--tls',
      '--auth',
      'PLAIN',
      '--auth-user',
      'alice@sender.test',
      '--auth-password',
      PASSWORD,
      '--from',
      'alice@sender.test',
      '--to',
      to.join(','),
      '--h-Subject',
      subject,
      '--body',
      body,
    ]).then(queueIdOf);

  const message = (queueId: string) =>
    db.message.findUniqueOrThrow({
      where: { queueId },
      include: { recipients: { include: { deliveryAttempts: { orderBy: { startedAt: 'asc' } } } } },
    });
  const recipient = async (queueId: string, address: string) => {
    const r = (await message(queueId)).recipients.find((x) => x.address === address);
    if (!r) throw new Error(`no recipient ${address}`);
    return r;
  };
  const statusIs = (queueId: string, address: string, ...statuses: string[]) =>
    until(`${address} ${statuses.join('/')}`, async () => {
      const r = await recipient(queueId, address);
      return statuses.includes(r.status) ? r : undefined;
    });
  /** The failure DSN written for `queueId` (a new message, source bounce, to alice). */
  const bounceFor = (queueId: string) =>
    until(`a bounce for ${queueId}`, async () => {
      const bounces = await db.message.findMany({
        where: { source: 'bounce', recipients: { some: { address: 'alice@sender.test' } } },
      });
      for (const b of bounces) {
        const text = (await readMessageBuffer(db, b.id)).toString('utf8');
        if (text.includes(queueId)) return { message: b, text };
      }
      return undefined;
    });
  /** Runs the retry the schedule has set for a message now: promotes its delayed delivery jobs. */
  const promoteRetries = async (messageId: string) => {
    const jobs = await until('a delayed retry', async () => {
      const delayed = await producer.queue(QueueName.Delivery).getJobs(['delayed']);
      const mine = delayed.filter((j) => j?.data?.messageId === messageId);
      return mine.length > 0 ? mine : undefined;
    });
    for (const job of jobs) await job.promote();
  };

  it('1. submission (AUTH over STARTTLS) to a remote domain: the MX gets the same bytes; delivered with an attempt row', async () => {
    const body = 'First line.\n.a line that starts with a dot\n\nLast line, case 1.';
    const queueId = await submit(['carol@remote.test'], 'case 1', body);
    const r = await statusIs(queueId, 'carol@remote.test', 'delivered');
    const [dump] = await until(
      'the sink to get it',
      () => sinks.main.bySubject('case 1').length === 1 && sinks.main.bySubject('case 1'),
    );
    const stored = await readMessageBuffer(db, (await message(queueId)).id);
    // The whole message, our Received header included, byte for byte (LF: the sink stores lines).
    expect(sha256(dump.content)).toBe(sha256(asLf(stored)));
    expect(dump.content).toMatch(/^Received: from [\s\S]*? by mta\.e2e\.test \(mta\) with\s+ESMTPSA/);
    expect(sha256(bodyOf(dump.content))).toBe(sha256(bodyOf(asLf(stored))));
    expect(bodyOf(dump.content)).toContain('.a line that starts with a dot\n');
    expect(dump.meta['X-Rcpt-Args']?.length ?? 1).toBe(1);
    expect(r.deliveryAttempts).toHaveLength(1);
    expect(r.deliveryAttempts[0]).toMatchObject({
      replyCode: 250,
      mxHost: 'mx.remote.test',
      ip: MAIN,
      port: deliveryPort,
      tlsVersion: null,
    });
  });

  it('2. mx on port 25 to a local account: a Maildir file with the body', async () => {
    const queueId = queueIdOf(
      await swaks([
        '--server',
        '127.0.0.1',
        '--port',
        String(mxPort),
        '--from',
        'dave@remote.test',
        '--to',
        'bob@local.test',
        '--h-Subject',
        'case 2',
        '--body',
        'Body for the Maildir, case 2.',
      ]),
    );
    const r = await statusIs(queueId, 'bob@local.test', 'delivered');
    const files = maildirFiles(path.join(maildir, 'local.test', 'bob', 'Maildir')).filter((f) =>
      f.includes('Subject: case 2'),
    );
    expect(files).toHaveLength(1);
    const stored = asLf(await readMessageBuffer(db, (await message(queueId)).id));
    expect(files[0]).toContain(stored);
    expect(files[0]).toMatch(/^Return-Path: <dave@remote\.test>\nDelivered-To: <?bob@local\.test>?\n/);
    expect(r.deliveryAttempts).toHaveLength(1);
  });

  it('3a. 550 at RCPT: the sender gets a bounce (a new message) with the remote reply', async () => {
    const queueId = await submit(['nobody@reject.test'], 'case 3a');
    const r = await statusIs(queueId, 'nobody@reject.test', 'bounced');
    expect(r).toMatchObject({ lastReplyCode: 550, lastEnhancedCode: '5.1.1' });
    const bounce = await bounceFor(queueId);
    expect(bounce.message.sender).toBe('');
    expect(bounce.text).toContain('e2e: no such user here');
    expect(bounce.text).toMatch(/Final-Recipient: rfc822;\s*nobody@reject\.test/i);
    expect(bounce.text).toMatch(/Remote-MTA: dns;\s*mx\.reject\.test/i);
    expect(sinks.reject.bySubject('case 3a')).toHaveLength(0);
  });

  it('3b. one recipient 250, one 450: only the deferred one is retried, and delivered once the MX accepts', async () => {
    const queueId = await submit(['ok@remote.test', 'busy@later.test'], 'case 3b');
    await statusIs(queueId, 'ok@remote.test', 'delivered');
    const busy = await statusIs(queueId, 'busy@later.test', 'deferred');
    expect(busy).toMatchObject({ lastReplyCode: 450, attempts: 1 });
    await sinks.later.stop();
    await sinks.later.start(); // the fault is gone
    await promoteRetries((await message(queueId)).id);
    const done = await statusIs(queueId, 'busy@later.test', 'delivered');
    expect(done.deliveryAttempts.map((a) => a.replyCode)).toEqual([450, 250]);
    expect((await recipient(queueId, 'ok@remote.test')).deliveryAttempts).toHaveLength(1);
    expect(sinks.later.bySubject('case 3b')).toHaveLength(1);
    expect(sinks.main.bySubject('case 3b')).toHaveLength(1);
  });

  it('3c. the first MX refuses connections: the second MX gets it', async () => {
    const queueId = await submit(['erin@backup.test'], 'case 3c');
    const r = await statusIs(queueId, 'erin@backup.test', 'delivered');
    expect(r.deliveryAttempts).toHaveLength(1);
    expect(r.deliveryAttempts[0]).toMatchObject({ replyCode: 250, mxHost: 'mx2.backup.test', ip: MAIN });
    expect(sinks.main.bySubject('case 3c')).toHaveLength(1);
  });

  it('3d. null MX: bounced at once, nothing connected', async () => {
    const queueId = await submit(['frank@nullmx.test'], 'case 3d');
    const r = await statusIs(queueId, 'frank@nullmx.test', 'bounced');
    expect(r).toMatchObject({ lastReplyCode: 556, lastEnhancedCode: '5.1.10', attempts: 1 });
    const bounce = await bounceFor(queueId);
    expect(bounce.text).toMatch(/5\.1\.10/);
    expect(Object.values(sinks).flatMap((s) => s.bySubject('case 3d'))).toHaveLength(0);
  });

  /** Stores `n` messages to the bulk domains as intake does and enqueues their `accepted` jobs. */
  async function storeBulk(run: string, n: number): Promise<string[]> {
    const ids: string[] = [];
    const rows = Array.from({ length: n }, (_, i) => {
      const queueId = newQueueId();
      const mid = `${run}-${i}@e2e.test`;
      ids.push(mid);
      const to = `user${i}@${BULK_DOMAINS[i % BULK_DOMAINS.length]}`;
      const data = Buffer.from(
        `From: <alice@sender.test>\r\nTo: <${to}>\r\nSubject: ${run} ${i}\r\nMessage-ID: <${mid}>\r\n\r\nbulk body ${i}\r\n`,
      );
      return { queueId, to, data, mid, subject: `${run} ${i}` };
    });
    const messages = await db.message.createManyAndReturn({
      data: rows.map((r) => ({
        queueId: r.queueId,
        sender: 'alice@sender.test',
        source: 'submission' as const,
        size: r.data.length,
        clientAddress: '127.0.0.1',
        messageIdHeader: r.mid,
        subject: r.subject,
      })),
      select: { id: true, queueId: true },
    });
    const byQueueId = new Map(messages.map((m) => [m.queueId, m.id]));
    await db.recipient.createMany({
      data: rows.map((r) => ({
        messageId: byQueueId.get(r.queueId) ?? '',
        address: r.to,
        domain: r.to.split('@')[1],
        nextAttemptAt: new Date(),
      })),
    });
    await db.messageChunk.createMany({
      data: rows.map((r) => ({
        messageId: byQueueId.get(r.queueId) ?? '',
        seq: 0,
        data: Uint8Array.from(r.data),
      })),
    });
    for (const m of messages) await producer.enqueue(QueueName.Accepted, { messageIds: [m.id] });
    return ids;
  }

  const bulkCounts = (run: string) => {
    const counts = new Map<string, number>();
    for (const d of sinks.bulk.dumps())
      if (d.messageId.startsWith(`${run}-`)) counts.set(d.messageId, (counts.get(d.messageId) ?? 0) + 1);
    return counts;
  };
  const undelivered = (run: string) =>
    db.recipient.count({
      where: { status: { not: 'delivered' }, message: { messageIdHeader: { startsWith: `${run}-` } } },
    });

  it('3e. a message held through the admin API is not delivered; released, it is', async () => {
    const queueId = await submit(['hank@hold.test'], 'case 3e');
    await statusIs(queueId, 'hank@hold.test', 'deferred');
    const action = (what: 'hold' | 'release') =>
      fetch(`${adminBase}/messages/${queueId}/${what}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
    expect((await action('hold')).status).toBe(200);
    await statusIs(queueId, 'hank@hold.test', 'held');
    await sinks.hold.stop();
    await sinks.hold.start(); // the MX would accept now
    // Hold took its retry out of Redis; a delivery job that still runs (a replay, the
    // reconciler racing the hold) must deliver nothing either.
    const held = await recipient(queueId, 'hank@hold.test');
    const stray = await producer.enqueue(QueueName.Delivery, {
      messageId: (await message(queueId)).id,
      route: 'remote',
      destination: 'hold.test',
      recipientIds: [held.id],
      // Not the id the release will use (attempt + 1): a finished job with the same id would
      // swallow the release's job until the reconciler's next pass.
      attempt: held.attempts + 2,
    });
    // A worker took it and found nothing to deliver: wait for that, not for the clock.
    await until('the stray delivery job to finish', async () =>
      (await producer.queue(QueueName.Delivery).getJob(stray))?.isCompleted(),
    );
    expect(sinks.hold.bySubject('case 3e')).toHaveLength(0);
    expect((await recipient(queueId, 'hank@hold.test')).status).toBe('held');
    expect((await action('release')).status).toBe(200);
    await statusIs(queueId, 'hank@hold.test', 'delivered');
    expect(sinks.hold.bySubject('case 3e')).toHaveLength(1);
  });

  describe('4. two delivery processes', () => {
    let out = '';
    afterAll(async () => {
      await worker2?.stop('SIGKILL');
      if (out) rmSync(out, { recursive: true, force: true });
    });

    beforeAll(async () => {
      // The `delivery` app's bundle, built like `nx build delivery` but into a scratch dir of the
      // workspace (tmp/, git-ignored): npm packages stay external and load from node_modules.
      mkdirSync(path.join(root, 'tmp'), { recursive: true });
      out = mkdtempSync(path.join(root, 'tmp', 'e2e-delivery-app-'));
      const build = spawnSync(
        path.join(root, 'node_modules/.bin/vite'),
        [
          'build',
          '--config',
          'tools/vite.app.config.mts',
          '--mode',
          'delivery',
          '--outDir',
          out,
          '--emptyOutDir',
        ],
        { cwd: root, encoding: 'utf8' },
      );
      if (build.status !== 0) throw new Error(`building the delivery app failed: ${build.stderr}`);
      const healthPort = await freePort();
      worker2 = await App.start(
        path.join(out, 'main.js'),
        { ...env, HEALTH_LISTEN: `127.0.0.1:${healthPort}` },
        healthPort,
      );
    });

    it('share a run of 1,000 messages: every message reaches the MX exactly once', async () => {
      const ids = await storeBulk('run1', 1000);
      await until('1,000 messages at the sink', () => bulkCounts('run1').size === 1000 || undefined, 90_000);
      await until('every recipient delivered', async () => (await undelivered('run1')) === 0, 30_000);
      const counts = bulkCounts('run1');
      expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([]);
      // Both processes took part.
      expect(worker2?.count('delivery delivered')).toBeGreaterThan(0);
      expect(app.count('delivery delivered')).toBeGreaterThan(0);
    }, 120_000);

    it('one of them killed with SIGKILL mid-run: every message still arrives, duplicates only from its running jobs', async () => {
      const before = worker2?.count('delivery delivered') ?? 0;
      const ids = await storeBulk('run2', 1000);
      await until(
        'the second process to be busy',
        () => (worker2?.count('delivery delivered') ?? 0) - before >= 100 || undefined,
        60_000,
      );
      expect(await worker2?.stop('SIGKILL')).toBe('SIGKILL');
      await until('1,000 messages at the sink', () => bulkCounts('run2').size === 1000 || undefined, 90_000);
      await until('every recipient delivered', async () => (await undelivered('run2')) === 0, 30_000);
      const counts = bulkCounts('run2');
      const duplicates = [...counts.values()].reduce((sum, n) => sum + n - 1, 0);
      console.log(
        `SIGKILL run: ${ids.length} messages, ${duplicates} delivered twice (at-least-once window)`,
      );
      expect(ids.filter((id) => !counts.has(id))).toEqual([]);
      // At most the jobs the killed process had running (DELIVERY_CONCURRENCY 20).
      expect(duplicates).toBeLessThanOrEqual(20);
    }, 120_000);
  });

  it('5. Redis loses every key mid-run: the reconciler brings every undelivered message back', async () => {
    const ids = await storeBulk('run3', 200);
    await until('a part delivered', () => bulkCounts('run3').size >= 20 || undefined, 30_000);
    const deleted = await flushPrefix(testRedis.url, testRedis.prefix);
    expect(deleted).toBeGreaterThan(0);
    // The reconciler runs every 30 s; what a run finds in flight may need the next one.
    await until('200 messages at the sink', () => bulkCounts('run3').size === 200 || undefined, 75_000);
    await until('every recipient delivered', async () => (await undelivered('run3')) === 0, 75_000);
    const counts = bulkCounts('run3');
    expect(ids.filter((id) => !counts.has(id))).toEqual([]);
    console.log(
      `Redis flush run: ${ids.length} messages, ${[...counts.values()].reduce((s, n) => s + n - 1, 0)} delivered twice`,
    );
    expect(
      app.logs.some(
        (l) =>
          l['msg'] === 'reconciler: delivery job enqueued again' ||
          l['msg'] === 'reconciler: accepted job enqueued again',
      ),
    ).toBe(true);
  }, 180_000);
});

describe.skipIf(!havePeers || !requirePeer('dovecot-lmtpd', haveDovecotLmtp()))(
  'local delivery over LMTP end to end',
  () => {
    let database: TestDatabase;
    let db: PrismaClient;
    let testRedis: Awaited<ReturnType<typeof createTestRedis>>;
    let dovecot: Dovecot;
    let app: App;
    let mxPort: number;
    // mx asks DNS for SPF, DKIM and DMARC: a loopback server with no records answers at once.
    let dns: Awaited<ReturnType<typeof startFakeDns>>;

    beforeAll(async () => {
      database = await createTestDatabase();
      db = createPrismaClient(database.url);
      testRedis = await createTestRedis();
      dovecot = await startDovecot([{ address: 'bob@lmtp.test' }, { address: 'carol@lmtp.test' }]);
      dns = await startFakeDns([]);
      const passwordHash = await hashPassword(PASSWORD);
      await db.domain.create({
        data: {
          name: 'lmtp.test',
          type: 'local',
          accounts: {
            create: [
              { address: 'bob@lmtp.test', passwordHash },
              { address: 'carol@lmtp.test', passwordHash },
            ],
          },
        },
      });
      const httpPort = await freePort();
      app = await App.start(
        main,
        {
          NODE_ENV: 'development',
          DATABASE_URL: database.url,
          REDIS_URL: testRedis.url,
          REDIS_PREFIX: testRedis.prefix,
          MTA_HOSTNAME: 'mta.e2e.test',
          ADMIN_LISTEN: `127.0.0.1:${httpPort}`,
          MX_LISTEN: `127.0.0.1:${(mxPort = await freePort())}`,
          SUBMISSION_LISTEN: `127.0.0.1:${await freePort()}`,
          SUBMISSIONS_LISTEN: `127.0.0.1:${await freePort()}`,
          DNS_SERVERS: `127.0.0.1:${dns.port}`,
          LOCAL_DELIVERY: `lmtp://127.0.0.1:${dovecot.port}`,
          LOG_LEVEL: 'info',
        },
        httpPort,
      );
    });

    afterAll(async () => {
      await app?.stop();
      await dovecot?.stop();
      await dns?.close();
      await db?.$disconnect();
      await database?.drop();
      await testRedis?.cleanup();
    });

    it('2b. mx on port 25 to a local account: Dovecot stores it', async () => {
      const queueId = queueIdOf(
        await swaks([
          '--server',
          '127.0.0.1',
          '--port',
          String(mxPort),
          '--from',
          'dave@remote.test',
          '--to',
          'bob@lmtp.test',
          '--h-Subject',
          'case 2b',
          '--body',
          'Body for Dovecot, case 2b.',
        ]),
      );
      const r = await until('delivered', async () => {
        const row = await db.recipient.findFirst({
          where: { message: { queueId }, address: 'bob@lmtp.test' },
          include: { deliveryAttempts: true },
        });
        return row?.status === 'delivered' ? row : undefined;
      });
      expect(r.deliveryAttempts[0]).toMatchObject({
        replyCode: 250,
        mxHost: '127.0.0.1',
        port: dovecot.port,
      });
      const files = maildirFiles(dovecot.maildir('bob@lmtp.test')).filter((f) =>
        f.includes('Subject: case 2b'),
      );
      expect(files).toHaveLength(1);
      const message = await db.message.findUniqueOrThrow({ where: { queueId } });
      expect(files[0].replace(/\r\n/g, '\n')).toContain(
        bodyOf(asLf(await readMessageBuffer(db, message.id))),
      );
    });

    it('2c. an ASCII message sent with SMTPUTF8 reaches Dovecot 2.3, whose LMTP has no SMTPUTF8 (RFC 6531 §3.4)', async () => {
      const queueId = queueIdOf(
        await pythonSend(mxPort, {
          from: 'dave@remote.test',
          to: ['bob@lmtp.test'],
          subject: 'case 2c',
          mailOptions: ['SMTPUTF8', 'BODY=8BITMIME'],
          body: 'Grüße: UTF-8 in the body only needs 8BITMIME.',
        }),
      );
      const row = await db.message.findUniqueOrThrow({ where: { queueId }, include: { recipients: true } });
      expect(row.smtpUtf8).toBe(true);
      await until('delivered', async () => {
        const r = await db.recipient.findFirst({ where: { message: { queueId }, address: 'bob@lmtp.test' } });
        return r?.status === 'delivered' ? r : undefined;
      });
      const files = maildirFiles(dovecot.maildir('bob@lmtp.test')).filter((f) =>
        f.includes('Subject: case 2c'),
      );
      expect(files).toHaveLength(1);
    });

    it('2d. NOTIFY=SUCCESS: one "delivered" DSN in the sender\'s mailbox, a multipart/report to Python; NEVER and none: no DSN', async () => {
      const send = (subject: string, rcptOptions: string[]) =>
        pythonSend(mxPort, { from: 'carol@lmtp.test', to: ['bob@lmtp.test'], subject, rcptOptions }).then(
          queueIdOf,
        );
      const never = await send('case 2d never', ['NOTIFY=NEVER']);
      const plain = await send('case 2d plain', []);
      const success = await send('case 2d success', ['NOTIFY=SUCCESS', 'ORCPT=rfc822;Bob@lmtp.test']);
      for (const queueId of [never, plain, success])
        await until(
          `${queueId} done`,
          async () => (await db.message.findUnique({ where: { queueId } }))?.state === 'done',
        );
      const dsns = await until("the success DSN in carol's mailbox", () => {
        const files = maildirFiles(dovecot.maildir('carol@lmtp.test'));
        return files.length > 0 ? files : undefined;
      });
      // The DSN is written before the message is done: a second one would be there by now.
      expect(dsns).toHaveLength(1);
      const report = pythonParseReport(dsns[0]);
      expect(report).toMatchObject({
        type: 'multipart/report',
        reportType: 'delivery-status',
        parts: ['text/plain', 'message/delivery-status', 'text/rfc822-headers'],
      });
      expect(report.recipients).toEqual([
        expect.objectContaining({
          'Final-Recipient': 'rfc822; bob@lmtp.test',
          'Original-Recipient': 'rfc822; Bob@lmtp.test',
          Action: 'delivered',
          Status: '2.0.0',
        }),
      ]);
      expect(dsns[0]).toContain(success); // the original's queue id (Final-Log-ID, Received)
      expect(dsns[0]).toMatch(/^Return-Path: <>/m);
    });
  },
);

/** Sends one message with Python's smtplib, with ESMTP MAIL and RCPT options; the transcript. */
async function pythonSend(
  port: number,
  m: {
    from: string;
    to: string[];
    subject: string;
    mailOptions?: string[];
    rcptOptions?: string[];
    body?: string;
  },
): Promise<string> {
  const script = `
import json, smtplib, sys
m = json.loads(sys.argv[1])
s = smtplib.SMTP('127.0.0.1', ${port})
s.set_debuglevel(1)
data = ('From: <%s>\\r\\nTo: <%s>\\r\\nSubject: %s\\r\\n\\r\\n%s\\r\\n' % (m['from'], m['to'][0], m['subject'], m.get('body', 'Hello.'))).encode('utf-8')
s.ehlo('client.e2e.test')
s.sendmail(m['from'], m['to'], data, mail_options=m.get('mailOptions', []), rcpt_options=m.get('rcptOptions', []))
s.quit()
`;
  return new Promise((resolve, reject) =>
    execFile('python3', ['-c', script, JSON.stringify(m)], { encoding: 'utf8' }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(`${stdout}${stderr}`),
    ),
  );
}

/** A DSN as Python's `email` package reads it: its types and each recipient block's fields. */
function pythonParseReport(raw: string): {
  type: string;
  reportType: string;
  parts: string[];
  recipients: Record<string, string>[];
} {
  const script = `
import email, email.policy, json, sys
msg = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
parts = list(msg.iter_parts())
status = [p for p in parts if p.get_content_type() == 'message/delivery-status']
blocks = status[0].get_payload() if status else []
print(json.dumps({'type': msg.get_content_type(), 'reportType': msg.get_param('report-type'),
  'parts': [p.get_content_type() for p in parts],
  'recipients': [{k: str(v) for k, v in b.items()} for b in blocks[1:]]}))
`;
  const out = spawnSync('python3', ['-c', script], { input: Buffer.from(raw, 'latin1') });
  if (out.status !== 0) throw new Error(`python failed: ${out.stderr.toString()}`);
  return JSON.parse(out.stdout.toString()) as ReturnType<typeof pythonParseReport>;
}
