import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
 */
const SCRIPT = `
const http = require('node:http');
const [host, port] = process.env.HEALTH_LISTEN.split(':');
if (process.env.MODE === 'exit') process.exit(3);
process.on('SIGTERM', () => { if (process.env.MODE !== 'stubborn') process.exit(0); });
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
  env: { ...process.env, ...env },
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
