import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import {
  createTestDatabase,
  createTestRedis,
  freePort,
  startTcpProxy,
  type TcpProxy,
  until,
} from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Runs the built bundle (`nx build all-in-one` runs first) as `npm start` and the image do. */
const main = path.resolve(__dirname, '../../../dist/apps/all-in-one/main.js');

const readyStatus = async (base: string) => (await fetch(`${base}/readyz`)).status;

describe('all-in-one process', () => {
  it('exits 1 with one line naming MX_LISTEN when it is nonsense', () => {
    const run = spawnSync(process.execPath, [main], {
      env: { ...process.env, MX_LISTEN: 'nonsense' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^all-in-one: configuration error: MX_LISTEN: expected host:port .*"nonsense"/);
  });

  it('validates without starting when asked to', () => {
    const run = spawnSync(process.execPath, [main, '--check-config'], {
      env: { ...process.env, NODE_ENV: 'development' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('all-in-one: configuration ok\n');
  });

  it('does not read HEALTH_LISTEN, which it does not listen on, and tells npm start its addresses', () => {
    const run = spawnSync(process.execPath, [main, '--check-config', '--json'], {
      env: { ...process.env, NODE_ENV: 'development', HEALTH_LISTEN: 'nonsense', MX_LISTEN: '127.0.0.1:2600' },
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      service: 'all-in-one',
      listen: {
        MX_LISTEN: '127.0.0.1:2600',
        SUBMISSION_LISTEN: '127.0.0.1:2587',
        SUBMISSIONS_LISTEN: '127.0.0.1:2465',
        ADMIN_LISTEN: '127.0.0.1:8080',
      },
    });
  });

  describe('running against real PostgreSQL and Redis', () => {
    let child: ChildProcess;
    let base: string;
    let redisProxy: TcpProxy;
    let postgresProxy: TcpProxy;
    let db: Awaited<ReturnType<typeof createTestDatabase>>;
    let redis: Awaited<ReturnType<typeof createTestRedis>>;
    const logLines: Record<string, unknown>[] = [];
    const adminToken = 'e2e-bootstrap-token-0123456789';
    let submissionPort: number;
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${base}/api/v1${path}`, {
        ...init,
        headers: {
          authorization: `Bearer ${adminToken}`,
          'content-type': 'application/json',
          ...init.headers,
        },
      });

    beforeAll(async () => {
      db = await createTestDatabase();
      redis = await createTestRedis();
      redisProxy = await startTcpProxy(Number(new URL(redis.url).port || 6379), new URL(redis.url).hostname);
      postgresProxy = await startTcpProxy(Number(new URL(db.url).port || 5432), new URL(db.url).hostname);
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      child = spawn(process.execPath, [main], {
        env: {
          ...process.env,
          // One process: this file checks what the single process logs and serves; supervise.e2e.spec.ts the default mode.
          ALL_IN_ONE_MODE: 'single',
          NODE_ENV: 'development',
          DATABASE_URL: postgresProxy.via(db.url),
          REDIS_URL: redisProxy.via(redis.url),
          REDIS_PREFIX: redis.prefix,
          ADMIN_LISTEN: `127.0.0.1:${port}`,
          MX_LISTEN: `127.0.0.1:${await freePort()}`,
          SUBMISSION_LISTEN: `127.0.0.1:${(submissionPort = await freePort())}`,
          ADMIN_TOKEN: adminToken,
          // Mail queued here to outside domains must never ask a real resolver: nothing listens here.
          DNS_SERVERS: `127.0.0.1:${await freePort()}`,
          SUBMISSIONS_LISTEN: `127.0.0.1:${await freePort()}`,
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let buffered = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) logLines.push(JSON.parse(line));
      });
      await until('the service to listen', async () =>
        (await fetch(`${base}/healthz`)).ok ? true : undefined,
      );
    });

    afterAll(async () => {
      child?.kill('SIGTERM');
      await redisProxy?.close();
      await postgresProxy?.close();
      await db?.drop();
      await redis?.cleanup();
    });

    it('boots every module in one process and logs it as JSON', () => {
      const started = logLines.find((l) => l['msg'] === 'all-in-one started');
      expect(started).toMatchObject({ service: 'all-in-one', level: 'info' });
      expect(started?.['modules']).toEqual([
        'MxModule',
        'SubmissionModule',
        'QueueManagerModule',
        'DeliveryModule',
        'PolicyModule',
        'AdminApiModule',
      ]);
      expect(logLines.find((l) => l['msg'] === 'mx listening')?.['listen']).toEqual([
        expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      ]);
      expect(logLines.find((l) => l['msg'] === 'submission listening')?.['listen']).toHaveLength(2);
    });

    type Readiness = { checks: Record<string, { ok: boolean; error?: string }> };
    const readiness = async () => (await (await fetch(`${base}/readyz`)).json()) as Readiness;
    /** Warnings and errors logged since line `from`, but the outage's own. */
    const otherComplaints = (from: number, address: string) =>
      logLines.slice(from).filter((l) => ['warn', 'error'].includes(String(l['level'])) && !l['dependency'] && JSON.stringify(l).includes(address));

    it('is ready; without Redis says so in one line and in /readyz, and recovers without a restart', async () => {
      const address = new URL(redisProxy.via(redis.url)).host;
      await until('ready', async () => ((await readyStatus(base)) === 200 ? true : undefined));
      const from = logLines.length;
      await redisProxy.stop();
      const body = await until(
        'readyz to name the cause',
        async () => {
          const r = await readiness();
          return r.checks['redis']?.error?.startsWith(`unreachable at ${address} for `) ? r : undefined;
        },
        30_000,
      );
      expect(body.checks['redis']?.error).toMatch(/: connect ECONNREFUSED /);
      expect(body.checks['postgres']?.ok).toBe(true);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      await redisProxy.start();
      await until('ready again', async () => ((await readyStatus(base)) === 200 ? true : undefined), 30_000);
      const lines = logLines.slice(from).filter((l) => l['dependency'] === 'redis');
      expect(lines.map((l) => l['level'])).toEqual(['error', 'info']);
      expect(lines[0]?.['msg']).toMatch(
        new RegExp(`^redis at ${address} is unreachable: connect ECONNREFUSED .*; retrying, one line a minute while it lasts$`),
      );
      expect(lines[1]?.['msg']).toMatch(new RegExp(`^redis at ${address} answers again after \\d+ s$`));
      expect(otherComplaints(from, address)).toEqual([]);
    });

    it('without PostgreSQL says so in one line and in /readyz, and recovers without a restart', async () => {
      const address = new URL(postgresProxy.via(db.url)).host;
      await until('ready', async () => ((await readyStatus(base)) === 200 ? true : undefined));
      const from = logLines.length;
      await postgresProxy.stop();
      const body = await until(
        'readyz to name the cause',
        async () => {
          const r = await readiness();
          return r.checks['postgres']?.error?.startsWith(`unreachable at ${address} for `) ? r : undefined;
        },
        30_000,
      );
      expect(body.checks['redis']?.ok).toBe(true);
      await until('the outage line', () => logLines.slice(from).some((l) => l['dependency'] === 'postgres'), 30_000);
      await postgresProxy.start();
      await until('ready again', async () => ((await readyStatus(base)) === 200 ? true : undefined), 30_000);
      await until('the line saying it is back', () => logLines.slice(from).filter((l) => l['dependency'] === 'postgres').length === 2, 30_000);
      const lines = logLines.slice(from).filter((l) => l['dependency'] === 'postgres');
      expect(lines.map((l) => l['level'])).toEqual(['error', 'info']);
      expect(lines[0]?.['msg']).toMatch(new RegExp(`^postgres at ${address} is unreachable: .+; retrying`));
      expect(otherComplaints(from, address)).toEqual([]);
    });

    it('lets an account created through the API send mail through submission', async () => {
      expect(
        (
          await api('/domains', {
            method: 'POST',
            body: JSON.stringify({ name: 'e2e.example', type: 'local' }),
          })
        ).status,
      ).toBe(201);
      const created = await api('/accounts', {
        method: 'POST',
        body: JSON.stringify({
          address: 'carol@e2e.example',
          password: 'a long enough password 42',
          sendAs: [],
        }),
      });
      expect(created.status).toBe(201);
      const swaks = await new Promise<string>((resolve) =>
        execFile(
          'swaks',
          [
            '--server',
            '127.0.0.1',
            '--port',
            String(submissionPort),
            '--tls',
            '--auth',
            'PLAIN',
            '--auth-user',
            'carol@e2e.example',
            '--auth-password',
            'a long enough password 42',
            '--from',
            'carol@e2e.example',
            '--to',
            'dave@elsewhere.example',
            '--h-Subject',
            'from the API account',
          ],
          { encoding: 'utf8' },
          (_error, stdout, stderr) => resolve(`${stdout}${stderr}`),
        ),
      );
      const queueId = /250 2\.0\.0 .*queued as ([0-9A-Z]{16})/.exec(swaks)?.[1];
      expect(queueId, swaks).toBeDefined();
      const message = (await (await api(`/messages/${queueId}`)).json()) as Record<string, unknown>;
      expect(message).toMatchObject({ source: 'submission', client: { authUser: 'carol@e2e.example' } });
      expect(JSON.stringify(message)).toContain('dave@elsewhere.example');
    });

    it('serves Prometheus metrics', async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      expect(text).toMatch(/mta_nodejs_heap_size_used_bytes\{service="all-in-one"\}/);
      // Queue depths for the delivery autoscaler (k8s/components/hpa), read from Redis per scrape.
      expect(text).toMatch(/^mta_queue_jobs\{queue="delivery",state="waiting",service="all-in-one"\} \d+$/m);
    });

    it('shuts down gracefully on SIGTERM', async () => {
      const exited = new Promise<string>((resolve) =>
        child.once('close', (code, signal) => resolve(String(signal ?? code))),
      );
      child.kill('SIGTERM');
      // Every module is closed, then the process exits 0 (libs/runtime/src/shutdown.ts).
      expect(await exited).toBe('0');
      expect(logLines.find((l) => l['msg'] === 'shutdown started')).toMatchObject({ signal: 'SIGTERM' });
      expect(logLines.find((l) => l['msg'] === 'shutting down')).toBeDefined();
      expect(logLines.find((l) => l['msg'] === 'shutdown complete')).toBeDefined();
    });
  });
});
