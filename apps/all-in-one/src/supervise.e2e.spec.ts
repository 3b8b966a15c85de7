import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  collectJsonLogs,
  createTestDatabase,
  createTestRedis,
  freePort,
  requirePeer,
  until,
  haveSwaks,
  runSwaks as swaks,
} from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The default mode of the built bundle (what `npm start` and the image run): one process per
 * service under a supervisor. Real processes, real PostgreSQL and Redis, swaks as the client.
 */
const main = path.resolve(__dirname, '../../../dist/apps/all-in-one/main.js');
const CHILDREN = ['mx', 'submission', 'queue', 'policy', 'admin-api', 'delivery-1', 'delivery-2'];
const ADMIN_TOKEN = 'e2e-supervise-token-0123456789';
type Readiness = { status: string; checks: Record<string, { ok: boolean; error?: string }> };

/** Whether a process of that pid runs (a zombie, exited but not yet reaped by its parent, does not). */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe.skipIf(!requirePeer('swaks', haveSwaks()))('all-in-one, supervised (the default mode)', () => {
  let supervisor: ChildProcess;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let logs: Record<string, unknown>[];
  let base: string;
  let mxPort: number;
  let maildir: string;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  const api = (p: string, body?: unknown) =>
    fetch(`${base}/api/v1${p}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const readiness = async () => {
    const res = await fetch(`${base}/readyz`);
    return { status: res.status, body: (await res.json()) as Readiness };
  };
  /** The pid of each child, from the supervisor's `child started` lines (the latest wins). */
  const pids = () =>
    new Map(
      logs
        .filter((l) => l['service'] === 'all-in-one' && l['msg'] === 'child started')
        .map((l) => [String(l['child']), Number(l['pid'])]),
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await createTestRedis();
    maildir = mkdtempSync(path.join(tmpdir(), 'e2e-supervise-'));
    const http = await freePort();
    base = `http://127.0.0.1:${http}`;
    mxPort = await freePort();
    supervisor = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        NODE_ENV: 'development',
        DATABASE_URL: db.url,
        REDIS_URL: redis.url,
        REDIS_PREFIX: redis.prefix,
        ADMIN_LISTEN: `127.0.0.1:${http}`,
        MX_LISTEN: `127.0.0.1:${mxPort}`,
        SUBMISSION_LISTEN: `127.0.0.1:${await freePort()}`,
        SUBMISSIONS_LISTEN: `127.0.0.1:${await freePort()}`,
        ADMIN_TOKEN,
        LOCAL_DELIVERY: `maildir:${maildir}`,
        // No resolver answers here: mail from outside is taken without SPF/DKIM/DMARC checks.
        DNS_SERVERS: `127.0.0.1:${await freePort()}`,
        POLICY_INBOUND_CHECKS: 'false',
        ALL_IN_ONE_DELIVERY_WORKERS: '2',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    logs = collectJsonLogs(supervisor.stdout, 'all-in-one-supervised');
    exited = new Promise((resolve) => supervisor.once('exit', (code, signal) => resolve({ code, signal })));
    // Seven Node.js processes starting at once on a 2-core runner: a generous deadline.
    await until('every child ready', async () => (await readiness()).status === 200, 120_000, 250);
  }, 150_000);

  afterAll(async () => {
    if (supervisor?.exitCode === null && supervisor.signalCode === null) {
      supervisor.kill('SIGTERM');
      await exited;
    }
    await db?.drop();
    await redis?.cleanup();
    if (maildir) rmSync(maildir, { recursive: true, force: true });
  });

  it('runs one process per service and delivery worker, and /readyz names each of them', async () => {
    const { body } = await readiness();
    expect(body).toEqual({ status: 'ready', checks: Object.fromEntries(CHILDREN.map((c) => [c, { ok: true }])) });
    const children = pids();
    expect([...children.keys()].sort()).toEqual([...CHILDREN].sort());
    expect(new Set(children.values()).size).toBe(CHILDREN.length);
    expect([...children.values()].every(alive)).toBe(true);
    // The children's own lines pass through, each naming its service.
    for (const service of ['mx', 'submission', 'queue', 'policy', 'admin-api', 'delivery'])
      expect(logs.some((l) => l['service'] === service && l['msg'] === `${service} started`), service).toBe(true);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it("names the child in each child's log lines: the two delivery workers apart", () => {
    const own = logs.filter((l) => l['service'] !== 'all-in-one');
    expect(own.filter((l) => !CHILDREN.includes(String(l['child'])))).toEqual([]);
    const started = (child: string) => logs.find((l) => l['msg'] === 'delivery started' && l['child'] === child);
    expect(started('delivery-1')).toMatchObject({ service: 'delivery', child: 'delivery-1' });
    expect(started('delivery-2')).toMatchObject({ service: 'delivery', child: 'delivery-2' });
    expect(logs.find((l) => l['msg'] === 'mx started')).toMatchObject({ service: 'mx', child: 'mx' });
  });

  it('accepts a mail from swaks on MX_LISTEN and delivers it to the Maildir (the API through the same port)', async () => {
    expect((await api('/domains', { name: 'example.test' })).status).toBe(201);
    expect((await api('/accounts', { address: 'alice@example.test', password: 'correct horse battery' })).status).toBe(201);
    const out = await swaks(['--server', `127.0.0.1:${mxPort}`, '--from', 'someone@elsewhere.example', '--to', 'alice@example.test', '--header', 'Subject: first mail']);
    const queueId = /250 2\.0\.0 OK: queued as ([0-9A-Z]{16})/.exec(out)?.[1];
    expect(queueId, out).toBeDefined();
    const inbox = path.join(maildir, 'example.test', 'alice', 'Maildir', 'new');
    await until('the mail in alice’s Maildir', () => existsSync(inbox) && readdirSync(inbox).length === 1, 60_000);
    const message = await until('the message done', async () => {
      const m = (await (await api(`/messages/${queueId}`)).json()) as { state: string };
      return m.state === 'done' ? m : undefined;
    }, 30_000);
    expect(message.state).toBe('done');
  });

  it("serves every child's metrics on the one port, each sample labelled with its child, each family described once", async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    const cpu = text.split('\n').filter((l) => l.startsWith('mta_process_cpu_user_seconds_total{'));
    expect(cpu.map((l) => /\{(.*)\}/.exec(l)?.[1])).toEqual(
      CHILDREN.map((c) => `service="${c.startsWith('delivery') ? 'delivery' : c}",child="${c}"`),
    );
    expect(text.match(/^# TYPE mta_process_cpu_user_seconds_total .*$/gm)).toEqual(['# TYPE mta_process_cpu_user_seconds_total counter']);
    // The services' own families, under the names they have alone: mx took the mail above.
    expect(text).toMatch(/^mta_intake_transactions_total\{service="mx",result="accepted",reason="",child="mx"\} 1$/m);
    for (const worker of ['delivery-1', 'delivery-2'])
      expect(text).toMatch(new RegExp(`^mta_nodejs_heap_size_used_bytes\\{service="delivery",child="${worker}"\\} \\d+$`, 'm'));
    expect(text.match(/^# HELP mta_delivery_jobs_total .*$/gm)).toHaveLength(1);
    // And the supervisor's own.
    expect(text).toContain(CHILDREN.map((c) => `mta_supervisor_child_up{child="${c}"} 1`).join('\n'));
    expect(text).toContain('mta_supervisor_restarts_total{child="queue"} 0');
  });

  it('restarts a child killed with SIGKILL, says why in one line, and readiness names it until it is back', async () => {
    const before = pids().get('queue') ?? 0;
    process.kill(before, 'SIGKILL');
    const notReady = await until('/readyz to name the dead queue', async () => {
      const r = await readiness();
      return r.status === 503 && !r.body.checks['queue']?.ok ? r.body : undefined;
    }, 30_000, 50);
    expect(notReady.checks['queue']?.error).toMatch(/killed by SIGKILL|no answer/);
    expect(notReady.checks['mx']).toEqual({ ok: true });
    const line = await until('the restart line', () =>
      logs.find((l) => l['child'] === 'queue' && String(l['msg']).includes('exited unexpectedly')),
    );
    expect(line).toMatchObject({ level: 'error', signal: 'SIGKILL', restartInMs: 1000 });
    expect(line['msg']).toBe('queue exited unexpectedly (killed by SIGKILL): restarting in 1000 ms');
    await until('ready again', async () => (await readiness()).status === 200, 90_000, 250);
    const after = pids().get('queue');
    expect(after).not.toBe(before);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('mta_supervisor_restarts_total{child="queue"} 1');
    expect(alive(after ?? 0)).toBe(true);
  }, 150_000);

  it('answers 503 naming a child that runs but does not answer its own /readyz (stopped), and 200 once it does', async () => {
    const policy = pids().get('policy') ?? 0;
    process.kill(policy, 'SIGSTOP');
    try {
      const { status, body } = await readiness();
      expect(status).toBe(503);
      expect(body.checks['policy']).toEqual({ ok: false, error: expect.stringMatching(/^no answer from its \/readyz/) });
      expect(Object.entries(body.checks).filter(([, c]) => !c.ok).map(([n]) => n)).toEqual(['policy']);
    } finally {
      process.kill(policy, 'SIGCONT');
    }
    await until('ready again', async () => (await readiness()).status === 200, 60_000, 250);
  }, 90_000);

  it('on SIGTERM drains every child, exits 0, and leaves nothing running', async () => {
    const children = [...pids().values()];
    supervisor.kill('SIGTERM');
    const { code, signal } = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(children.filter(alive)).toEqual([]);
    expect(logs.find((l) => l['msg'] === 'every child has exited')).toMatchObject({ service: 'all-in-one', code: 0 });
    // Each child drained through its own shutdown (libs/runtime), not killed.
    expect(logs.filter((l) => l['msg'] === 'shutdown complete')).toHaveLength(CHILDREN.length);
    const refused = await new Promise<boolean>((resolve) =>
      net.connect(mxPort, '127.0.0.1').once('connect', () => resolve(false)).once('error', () => resolve(true)),
    );
    expect(refused).toBe(true);
  }, 60_000);
});

describe.skipIf(!requirePeer('swaks', haveSwaks()))('all-in-one, supervised, when the supervisor is killed', () => {
  it('lets every child drain and exit on its own (its IPC channel closes) instead of holding the ports', async () => {
    const db = await createTestDatabase();
    const redis = await createTestRedis();
    const http = await freePort();
    const supervisor = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        NODE_ENV: 'development',
        DATABASE_URL: db.url,
        REDIS_URL: redis.url,
        REDIS_PREFIX: redis.prefix,
        ADMIN_LISTEN: `127.0.0.1:${http}`,
        MX_LISTEN: `127.0.0.1:${await freePort()}`,
        SUBMISSION_LISTEN: `127.0.0.1:${await freePort()}`,
        SUBMISSIONS_LISTEN: `127.0.0.1:${await freePort()}`,
        ADMIN_TOKEN,
        ALL_IN_ONE_DELIVERY_WORKERS: '1',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const logs = collectJsonLogs(supervisor.stdout, 'all-in-one-killed');
    try {
      await until('every child ready', async () => (await fetch(`http://127.0.0.1:${http}/readyz`)).ok, 120_000, 250);
      const children = logs.filter((l) => l['msg'] === 'child started').map((l) => Number(l['pid']));
      expect(children).toHaveLength(6);
      supervisor.kill('SIGKILL');
      await until('every child gone', () => children.every((pid) => !alive(pid)), 60_000, 100);
      expect(logs.filter((l) => l['msg'] === 'shutdown complete')).toHaveLength(6);
    } finally {
      supervisor.kill('SIGKILL');
      await db.drop();
      await redis.cleanup();
    }
  }, 180_000);
});
