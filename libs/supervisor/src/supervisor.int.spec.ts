import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { until } from '@mta/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ChildSpec } from './child';
import { serveFront } from './front';
import type { SupervisorLog } from './log';
import { Supervisor } from './supervisor';

/**
 * Real child processes: a small Node.js script that serves /readyz (200, or 503 with a failing
 * check) and echoes any other request on HEALTH_LISTEN (port 0: the kernel's pick, reported over
 * IPC as a service does); MODE=exit exits at once with code 3, MODE=stubborn ignores SIGTERM.
 * It answers the supervisor's requests for its metrics as runService does, from a prom-client
 * registry labelled with its SERVICE: a counter at REQUESTS and a histogram with one 0.5 s.
 */
const SCRIPT = `
const http = require('node:http');
const prom = require(process.env.PROM_CLIENT);
const [host, port] = process.env.HEALTH_LISTEN.split(':');
if (process.env.MODE === 'exit') process.exit(3);
process.on('SIGTERM', () => { if (process.env.MODE !== 'stubborn') process.exit(0); });
const registry = new prom.Registry();
registry.setDefaultLabels({ service: process.env.SERVICE || 'test' });
new prom.Counter({ name: 'mta_test_requests_total', help: 'Requests served.', registers: [registry] }).inc(Number(process.env.REQUESTS || 1));
new prom.Histogram({ name: 'mta_test_seconds', help: 'Time taken.', buckets: [1], registers: [registry] }).observe(0.5);
process.on('message', (m) => {
  if (m.type === 'metrics') void registry.getMetricsAsJSON().then((metrics) => process.send({ type: 'metrics', id: m.id, metrics }));
});
const server = http.createServer((req, res) => {
  if (req.url === '/readyz') {
    const ok = process.env.READY !== 'no';
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ status: ok ? 'ready' : 'unavailable', checks: { redis: ok ? { ok } : { ok, error: 'unreachable at 127.0.0.1:1' } } }));
  }
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    res.writeHead(201, { 'x-echo': 'yes' });
    res.end(JSON.stringify({ method: req.method, url: req.url, body }));
  });
});
server.listen(Number(port), host, () => process.send({ type: 'listening', httpPort: server.address().port }));
`;
const dir = mkdtempSync(path.join(tmpdir(), 'supervisor-'));
const script = path.join(dir, 'child.js');
writeFileSync(script, SCRIPT);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec = (name: string, env: Record<string, string> = {}): ChildSpec => ({
  name,
  command: process.execPath,
  args: [script],
  env: { ...process.env, PROM_CLIENT: createRequire(__filename).resolve('prom-client'), ...env },
  httpListenVariable: 'HEALTH_LISTEN',
});

function memoryLog(): SupervisorLog & { lines: { level: string; fields: Record<string, unknown>; message: string }[] } {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const at = (level: string) => (fields: object, message: string) =>
    void lines.push({ level, fields: fields as Record<string, unknown>, message });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

const alive = (pid: number | undefined) => {
  try {
    return pid !== undefined && process.kill(pid, 0);
  } catch {
    return false;
  }
};

describe('Supervisor', () => {
  const running: Supervisor[] = [];
  const supervise = (specs: ChildSpec[], options: Partial<ConstructorParameters<typeof Supervisor>[1]> = {}) => {
    const log = memoryLog();
    const supervisor = new Supervisor(specs, { log, ...options });
    running.push(supervisor);
    return { supervisor, log };
  };
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop('SIGKILL')));
  });

  it('is ready when every child is, and names a child whose own /readyz fails, with its reason', async () => {
    const { supervisor } = supervise([spec('a'), spec('b', { READY: 'no' })]);
    supervisor.start();
    const report = await until('both answer', async () => {
      const r = await supervisor.readiness();
      const started = (c?: { ok: boolean; error?: string }) => c?.ok || c?.error?.startsWith('not ready');
      return started(r.checks['a']) && started(r.checks['b']) ? r : undefined;
    });
    expect(report).toEqual({
      ready: false,
      checks: { a: { ok: true }, b: { ok: false, error: 'not ready: redis: unreachable at 127.0.0.1:1' } },
    });
  });

  it('restarts a child that keeps dying with a doubling delay, one error line each', async () => {
    const { supervisor, log } = supervise([spec('crash', { MODE: 'exit' })], { backoff: { firstMs: 50, maxMs: 200 } });
    supervisor.start();
    const restarts = await until('four restarts', () => {
      const lines = log.lines.filter((l) => l.level === 'error');
      return lines.length >= 4 ? lines.slice(0, 4) : undefined;
    });
    expect(restarts.map((l) => l.fields['restartInMs'])).toEqual([50, 100, 200, 200]);
    expect(restarts[0]?.message).toBe('crash exited unexpectedly (exit code 3): restarting in 50 ms');
    expect(restarts[0]?.fields).toMatchObject({ child: 'crash', code: 3, signal: null });
    const r = await supervisor.readiness();
    expect(r.ready).toBe(false);
  });

  it('stops every child on a signal and resolves 0 when each exited 0; no restart after', async () => {
    const { supervisor, log } = supervise([spec('a'), spec('b')]);
    supervisor.start();
    await until('ready', async () => (await supervisor.readiness()).ready);
    const pids = ['a', 'b'].map((n) => supervisor.child(n)?.pid);
    expect(await supervisor.stop('SIGTERM')).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
    expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(await supervisor.readiness()).toEqual({ ready: false, checks: { draining: { ok: false, error: 'shutting down' } } });
  });

  it('runs a child given a niceness at it on every thread, and its session group too; the others at its own', async () => {
    const { supervisor, log } = supervise([{ ...spec('background'), nice: 7 }, spec('front')]);
    supervisor.start();
    await until('ready', async () => (await supervisor.readiness()).ready);
    const niceness = (pid: number) => readdirSync(`/proc/${pid}/task`).map((tid) => os.getPriority(Number(tid)));
    const [background, front] = ['background', 'front'].map((n) => supervisor.child(n)?.pid ?? 0);
    const own = os.getPriority();
    // Threads started after the child was lowered (the ones that serve it now) inherit it.
    expect(new Set(niceness(background))).toEqual(new Set([Math.max(7, own)]));
    expect(niceness(background).length).toBeGreaterThan(1);
    expect(new Set(niceness(front))).toEqual(new Set([own]));
    if (readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1') {
      const group = (pid: number | 'self') => readFileSync(`/proc/${pid}/autogroup`, 'utf8').trim();
      expect(group(background)).toMatch(/ nice 7$/);
      expect(group(front)).toMatch(/ nice 0$/);
      expect(group('self')).not.toBe(group(background));
    }
    expect(log.lines.filter((l) => l.level !== 'info')).toEqual([]);
  });

  it('gives SIGKILL to a child still running after the grace period, and resolves 1', async () => {
    const { supervisor, log } = supervise([spec('polite'), spec('stubborn', { MODE: 'stubborn' })], { graceMs: 300 });
    supervisor.start();
    await until('ready', async () => (await supervisor.readiness()).ready);
    const stubborn = supervisor.child('stubborn')?.pid;
    expect(await supervisor.stop('SIGTERM')).toBe(1);
    expect(alive(stubborn)).toBe(false);
    expect(log.lines.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([
      'stubborn did not exit in time: SIGKILL',
    ]);
  });
});

describe('serveFront', () => {
  it('answers /healthz and /readyz itself and passes everything else to the upstream child, body and status', async () => {
    const supervisor = new Supervisor([spec('api')], { log: memoryLog() });
    const server = await serveFront({ host: '127.0.0.1', port: 0, supervisor, upstream: 'api' });
    const address = server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    try {
      const before = await fetch(`${base}/api/v1/domains`);
      expect(before.status).toBe(503);
      expect(await before.json()).toEqual({
        error: { status: 503, code: 'unavailable', message: 'api is starting (or restarting); try again shortly' },
      });
      expect(before.headers.get('retry-after')).toBe('1');
      supervisor.start();
      await until('ready', async () => {
        const r = await fetch(`${base}/readyz`);
        if (r.status !== 200) throw new Error(await r.text());
        return true;
      });
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
      const res = await fetch(`${base}/api/v1/domains?x=1`, { method: 'POST', body: '{"name":"a.example"}' });
      expect(res.status).toBe(201);
      expect(res.headers.get('x-echo')).toBe('yes');
      expect(await res.json()).toEqual({ method: 'POST', url: '/api/v1/domains?x=1', body: '{"name":"a.example"}' });
    } finally {
      server.close();
      await supervisor.stop('SIGTERM');
    }
  });
});

describe("the supervisor's /metrics", () => {
  const TOKEN = 'metrics-token-0123456789abcdef';
  let supervisor: Supervisor;
  let server: Awaited<ReturnType<typeof serveFront>>;
  let base: string;
  const scrape = async () => {
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return res.text();
  };
  const samples = (text: string, name: string) => text.split('\n').filter((l) => l.startsWith(`${name}{`));

  afterEach(async () => {
    server?.close();
    await supervisor?.stop('SIGKILL');
  });

  async function start(specs: ChildSpec[], options: Partial<ConstructorParameters<typeof Supervisor>[1]> = {}) {
    supervisor = new Supervisor(specs, { log: memoryLog(), metricsTimeoutMs: 5_000, ...options });
    server = await serveFront({ host: '127.0.0.1', port: 0, supervisor, upstream: 'mx', metricsToken: TOKEN });
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    supervisor.start();
  }

  it("shows every child's metrics, each sample labelled with its child, HELP and TYPE once, and its own", async () => {
    await start([
      spec('mx', { SERVICE: 'mx', REQUESTS: '2' }),
      spec('delivery-1', { SERVICE: 'delivery', REQUESTS: '3' }),
      spec('delivery-2', { SERVICE: 'delivery', REQUESTS: '4' }),
    ]);
    await until('ready', async () => (await supervisor.readiness()).ready);
    const text = await scrape();
    expect(text.match(/^# (HELP|TYPE) mta_test_requests_total.*$/gm)).toEqual([
      '# HELP mta_test_requests_total Requests served.',
      '# TYPE mta_test_requests_total counter',
    ]);
    expect(samples(text, 'mta_test_requests_total')).toEqual([
      'mta_test_requests_total{service="mx",child="mx"} 2',
      'mta_test_requests_total{service="delivery",child="delivery-1"} 3',
      'mta_test_requests_total{service="delivery",child="delivery-2"} 4',
    ]);
    expect(samples(text, 'mta_test_seconds_bucket')).toEqual(
      ['mx', 'delivery-1', 'delivery-2'].flatMap((child) => {
        const labels = `service="${child === 'mx' ? 'mx' : 'delivery'}",child="${child}"`;
        return [`mta_test_seconds_bucket{le="1",${labels}} 1`, `mta_test_seconds_bucket{le="+Inf",${labels}} 1`];
      }),
    );
    expect(samples(text, 'mta_supervisor_child_up')).toEqual([
      'mta_supervisor_child_up{child="mx"} 1',
      'mta_supervisor_child_up{child="delivery-1"} 1',
      'mta_supervisor_child_up{child="delivery-2"} 1',
    ]);
    expect(samples(text, 'mta_supervisor_scrape_errors_total').map((l) => l.split(' ')[1])).toEqual(['0', '0', '0']);
  });

  it('wants METRICS_TOKEN when it is set: 401 without it, as a service answers', async () => {
    await start([spec('mx')]);
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789abcdef', TOKEN]) {
      const res = await fetch(`${base}/metrics`, { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect(await res.json()).toEqual({ error: { status: 401, code: 'unauthorized', message: 'a valid bearer token is required' } });
    }
  });

  it('leaves out a child that does not answer within the timeout, and counts it', async () => {
    await start([spec('mx'), spec('delivery-1'), spec('delivery-2')], { metricsTimeoutMs: 1_000 });
    await until('ready', async () => (await supervisor.readiness()).ready);
    const stopped = supervisor.child('delivery-2')?.pid ?? 0;
    process.kill(stopped, 'SIGSTOP');
    try {
      const t0 = Date.now();
      const text = await scrape();
      // Within the timeout, not waiting for the stopped child (a generous margin for a busy machine).
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(samples(text, 'mta_test_requests_total').map((l) => /child="([^"]+)"/.exec(l)?.[1])).toEqual(['mx', 'delivery-1']);
      expect(samples(text, 'mta_supervisor_scrape_errors_total')).toEqual([
        'mta_supervisor_scrape_errors_total{child="mx"} 0',
        'mta_supervisor_scrape_errors_total{child="delivery-1"} 0',
        'mta_supervisor_scrape_errors_total{child="delivery-2"} 1',
      ]);
      // Still running: it is up, only slow.
      expect(samples(text, 'mta_supervisor_child_up')).toContain('mta_supervisor_child_up{child="delivery-2"} 1');
    } finally {
      process.kill(stopped, 'SIGCONT');
    }
    // Back: its late answer to the old request is ignored, a later scrape has it again.
    const again = await until('delivery-2 answering again', async () => {
      const t = await scrape();
      return samples(t, 'mta_test_requests_total').length === 3 ? t : undefined;
    });
    expect(samples(again, 'mta_test_requests_total')[2]).toBe('mta_test_requests_total{service="test",child="delivery-2"} 1');
  });

  it('counts the restarts of a child that keeps dying, which is down meanwhile', async () => {
    await start([spec('mx'), spec('crash', { MODE: 'exit' })], { backoff: { firstMs: 50, maxMs: 100 } });
    const text = await until('two restarts', async () => {
      const t = await scrape();
      const restarts = Number(/^mta_supervisor_restarts_total\{child="crash"\} (\d+)$/m.exec(t)?.[1]);
      return restarts >= 2 ? t : undefined;
    });
    expect(samples(text, 'mta_supervisor_restarts_total')[0]).toBe('mta_supervisor_restarts_total{child="mx"} 0');
    expect(samples(text, 'mta_supervisor_child_up')).toContain('mta_supervisor_child_up{child="crash"} 0');
    expect(samples(text, 'mta_test_requests_total').every((l) => !l.includes('crash'))).toBe(true);
  });
});
