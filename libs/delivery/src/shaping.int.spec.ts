/**
 * Traffic shaping per destination (limits/shaping.ts) through `createDeliveryAgents`, as a
 * delivery process runs it: real Redis, the fake DNS of @mta/testing, and nodemailer's
 * smtp-server as the receiving MX, which counts sessions and messages. Each limit is tested at
 * and just past its value, by what the receiver saw.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import {
  aRecord,
  createTestRedis,
  mxRecord,
  portFreeOn,
  startFakeDns,
  until,
  type FakeDnsServer,
} from '@mta/testing';
import type { DeliveryReport, DeliveryRequest } from './contract';
import { RedisDestinationLimiter } from './limits/destination-limiter';
import { RedisRateLimiter } from './limits/rate-limiter';
import type { Shaping } from './limits/shaping';
import type { ShapingKeying } from './limits/site';
import { message, request } from './test/fixtures';
import { startShapingPeer, type ShapingPeer } from './test/shaping-peer';
import { createDeliveryAgents, type ClosableAgents } from './worker/agents';

const MX = '127.0.0.6';
const ZONE = [
  mxRecord('shaped.test', 10, 'mx.shaped.test'),
  // Another domain on the same MX host: one site under DELIVERY_SHAPING_BY=mx.
  mxRecord('hosted.test', 10, 'mx.shaped.test'),
  aRecord('mx.shaped.test', MX),
];

describe('traffic shaping per destination', () => {
  let dns: FakeDnsServer & { servers: { host: string; port: number }[] };
  let test: Awaited<ReturnType<typeof createTestRedis>>;
  let redis: Redis;
  let peer: ShapingPeer | undefined;
  let agents: ClosableAgents | undefined;
  const others: ClosableAgents[] = [];
  let n = 0;
  /** The connection slots of the processes set up last (to count them). */
  let slots: RedisDestinationLimiter;

  beforeAll(async () => {
    dns = await startFakeDns(ZONE);
    test = await createTestRedis();
    redis = new Redis(test.url, { maxRetriesPerRequest: 1 });
  });
  afterEach(async () => {
    for (const a of others.splice(0)) await a.close();
    await agents?.close();
    await peer?.stop();
    agents = peer = undefined;
  });
  afterAll(async () => {
    await dns.close();
    redis.disconnect();
    await test.cleanup();
  });

  /** A receiver and the agents of `processes` delivery processes (one Redis prefix), with `shaping` as the defaults. */
  async function setUpProcesses(
    shaping: Partial<Shaping>,
    processes: number,
    shapingBy: ShapingKeying = 'domain',
  ): Promise<ClosableAgents[]> {
    const port = await portFreeOn([MX]);
    peer = await startShapingPeer(MX, port);
    const prefix = `${test.prefix}:${++n}`;
    slots = new RedisDestinationLimiter({ redis, prefix });
    const all = Array.from({ length: processes }, () =>
      createDeliveryAgents({
        hostname: 'mta.example.org',
        dnsServers: dns.servers,
        port,
        local: { kind: 'maildir', path: '/nonexistent' },
        redis,
        prefix,
        mtaSts: false,
        shaping,
        shapingBy,
      }),
    );
    others.push(...all.slice(1));
    agents = all[0];
    return all;
  }

  async function setUp(
    shaping: Partial<Shaping>,
    shapingBy: ShapingKeying = 'domain',
  ): Promise<ClosableAgents> {
    return (await setUpProcesses(shaping, 1, shapingBy))[0];
  }

  const req = (domain = 'shaped.test'): DeliveryRequest =>
    request([`user${++n}@${domain}`], message(`shaping-${n}`), { destination: domain });

  /** Delivers as the worker does: a `deferred-local` report is run again after `retryAfterMs`. */
  async function deliverAsWorker(a: ClosableAgents, r: DeliveryRequest): Promise<DeliveryReport> {
    for (;;) {
      const report = await a.remote.deliver(r);
      if (report.status !== 'deferred-local') return report;
      await new Promise((resolve) => setTimeout(resolve, report.retryAfterMs));
    }
  }

  it('runs maxConnections sessions at once and gives the next delivery back (deferred-local)', async () => {
    const a = await setUp({ maxConnections: 2 });
    peer?.stall();
    const running = [a.remote.deliver(req()), a.remote.deliver(req())];
    await until('two stalled sessions at the receiver', () => peer?.held === 2, 20_000, 10);
    // Just past the limit: no third connection; the delivery goes back to the queue.
    const third = await a.remote.deliver(req());
    expect(third).toMatchObject({ status: 'deferred-local', limit: 'connections' });
    expect(third.results[0]).toMatchObject({ kind: 'deferred', code: 451, enhanced: '4.4.5' });
    expect(peer?.connections).toBe(2);
    peer?.resume();
    for (const r of await Promise.all(running)) expect(r.results[0].kind).toBe('delivered');
    expect(peer?.maxOpen).toBe(2);
  });

  it('counts idle sessions: two processes never have more than maxConnections open', async () => {
    const processes = await setUpProcesses({ maxConnections: 2 }, 2);
    // Each process in turn delivers two at once, keeping two sessions idle; then both together.
    const reports: DeliveryReport[] = [];
    for (const p of processes)
      reports.push(...(await Promise.all([p.remote.deliver(req()), p.remote.deliver(req())])));
    const m = 12;
    reports.push(
      ...(await Promise.all(Array.from({ length: m }, (_, i) => deliverAsWorker(processes[i % 2], req())))),
    );
    for (const r of reports) expect(r.results[0].kind).toBe('delivered');
    expect(peer?.received).toHaveLength(m + 4);
    // Never more than 2 open at once, idle ones included (4 when idle sessions were not counted).
    expect(peer?.maxOpen).toBe(2);
    // What stays open idle holds the slots, one each.
    await until(
      'the idle sessions hold one slot each',
      async () => (await slots.inUse('shaped.test')) === peer?.open,
      20_000,
    );
  });

  it('gives a delivery at the limit the slot of another process’s idle session at once', async () => {
    const [a, b] = await setUpProcesses({ maxConnections: 2 }, 2);
    const first = await Promise.all([b.remote.deliver(req()), b.remote.deliver(req())]);
    for (const r of first) expect(r.results[0].kind).toBe('delivered');
    await until(
      'b keeps both sessions idle, holding both slots',
      async () => peer?.open === 2 && (await slots.inUse('shaped.test')) === 2,
      20_000,
      10,
    );
    // One attempt, no retry: b closes one idle session for it instead of keeping it 30 s.
    expect((await a.remote.deliver(req())).results[0].kind).toBe('delivered');
    expect(peer?.connections).toBe(3);
    // Not the idle timeout: b's other session, given back at the same time, is still open.
    await until("a keeps its session idle next to b's other one", () => peer?.open === 2, 20_000, 10);
    expect(peer?.messagesPerSession()).toEqual([1, 1, 1]);
    expect(peer?.maxOpen).toBe(2);
    expect(await slots.inUse('shaped.test')).toBe(2);
  });

  it("gives the idle sessions' slots back when the pool closes", async () => {
    const a = await setUp({ maxConnections: 2 });
    await Promise.all([a.remote.deliver(req()), a.remote.deliver(req())]);
    await until(
      'two idle sessions holding both slots',
      async () => peer?.open === 2 && (await slots.inUse('shaped.test')) === 2,
      20_000,
      10,
    );
    await a.close();
    agents = undefined;
    expect(await slots.inUse('shaped.test')).toBe(0);
    await until('the sessions closed', () => peer?.open === 0, 20_000, 10);
  });

  /** Two deliveries to each of two domains on one MX host, while the receiver stalls them. */
  async function twoDomainsAtOnce(a: ClosableAgents, held: number): Promise<void> {
    peer?.stall();
    const all = ['shaped.test', 'shaped.test', 'hosted.test', 'hosted.test'].map((d) =>
      deliverAsWorker(a, req(d)),
    );
    await until(`${held} stalled sessions at the receiver`, () => peer?.held === held, 20_000, 10);
    peer?.resume();
    for (const r of await Promise.all(all)) expect(r.results[0].kind).toBe('delivered');
  }

  it('DELIVERY_SHAPING_BY=mx: two domains on one MX host share its maxConnections', async () => {
    const a = await setUp({ maxConnections: 2 }, 'mx');
    await twoDomainsAtOnce(a, 2);
    expect(peer?.received).toHaveLength(4);
    expect(peer?.maxOpen).toBe(2);
    // The slots are the site's: the idle sessions hold them under its key.
    await until(
      "the idle sessions hold the site's slots",
      async () => (await slots.inUse('mx:mx.shaped.test')) === peer?.open,
    );
    expect(await slots.inUse('shaped.test')).toBe(0);
  });

  it('DELIVERY_SHAPING_BY=domain (the default): each of the two domains has its own maxConnections', async () => {
    const a = await setUp({ maxConnections: 2 });
    await twoDomainsAtOnce(a, 4);
    expect(peer?.maxOpen).toBe(4);
  });

  it('DELIVERY_SHAPING_BY=mx: an override naming the MX host applies to the site', async () => {
    const a = await setUp({ maxConnections: 2 }, 'mx');
    a.shaping.set([
      { domain: 'MX.shaped.test', maxConnections: 1, maxMessagesPerConnection: null, maxMessageRate: null },
    ]);
    await twoDomainsAtOnce(a, 1);
    expect(peer?.maxOpen).toBe(1);
  });

  it('carries maxMessagesPerConnection messages per session, then QUITs and reconnects', async () => {
    const a = await setUp({ maxMessagesPerConnection: 3 });
    for (let i = 0; i < 7; i++) expect((await a.remote.deliver(req())).results[0].kind).toBe('delivered');
    // Seen at the receiver: sessions of 3, 3 and 1 messages (the 4th and 7th opened new ones).
    expect(peer?.messagesPerSession()).toEqual([3, 3, 1]);
    await until('the full sessions closed', () => peer?.open === 1, 20_000, 10);
  });

  it('keeps to maxMessageRate across two processes: M messages span at least (M - 1) / rate', async () => {
    const processes = await setUpProcesses({ maxMessageRate: { count: 5, periodMs: 1_000 } }, 2);
    const m = 8;
    const reports = await Promise.all(
      Array.from({ length: m }, (_, i) => deliverAsWorker(processes[i % 2], req())),
    );
    for (const r of reports) expect(r.results[0].kind).toBe('delivered');
    const times = peer?.received.map((r) => r.at) ?? [];
    expect(times).toHaveLength(m);
    // The limiter lets one message go every 200 ms, whichever process asks; the time from the
    // token to the receiver varies by a few ms, so allow one interval of slack: (M - 2) / rate.
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(((m - 2) * 1_000) / 5);
  });

  it('gives a throttled delivery back at once with the wait the limiter names, holding no worker', async () => {
    const a = await setUp({ maxMessageRate: { count: 1, periodMs: 60_000 } });
    expect((await a.remote.deliver(req())).results[0].kind).toBe('delivered');
    const second = await a.remote.deliver(req());
    expect(second).toMatchObject({ status: 'deferred-local', limit: 'rate' });
    expect(second.results[0].text).toMatch(/message rate of shaped\.test reached/);
    expect(second.retryAfterMs).toBeGreaterThanOrEqual(58_000);
    expect(peer?.received).toHaveLength(1);
  });

  it('rate (GCRA): one message per interval, the next told how long to wait', async () => {
    const rates = new RedisRateLimiter(redis, `${test.prefix}:gcra`);
    const rate = { count: 10, periodMs: 1_000 }; // one per 100 ms
    expect(await rates.take('gcra.test', rate)).toEqual({ ok: true });
    const refused = await rates.take('gcra.test', rate);
    expect(refused.ok).toBe(false);
    const waitMs = refused.ok ? 0 : refused.waitMs;
    expect(waitMs).toBeGreaterThan(0);
    expect(waitMs).toBeLessThanOrEqual(100);
    // Another destination has its own rate.
    expect(await rates.take('other.test', rate)).toEqual({ ok: true });
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    expect(await rates.take('gcra.test', rate)).toEqual({ ok: true });
    // A rate raised meanwhile applies at once: after 1/min, 10/s waits one 100 ms interval at most.
    expect(await rates.take('raised.test', { count: 1, periodMs: 60_000 })).toEqual({ ok: true });
    const raised = await rates.take('raised.test', rate);
    expect(raised.ok ? 0 : raised.waitMs).toBeLessThanOrEqual(100);
    // Nothing is left behind once the interval has passed.
    await until('the key expires', async () => (await redis.exists(rates.keyOf('gcra.test'))) === 0, 20_000);
  });
});
