/**
 * The per-destination limit against the real Redis: two limiters (two workers) share the
 * slots; leases expire; a held lease is renewed while the delivery runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { fileURLToPath } from 'node:url';
import { createTestRedis, spawnPeer, until as waitUntil } from '@mta/testing';
import type { DeliveryAgent, DeliveryReport, DeliveryRequest } from './contract';
import { RedisDestinationLimiter } from './limits/destination-limiter';
import { ConcurrencyLimitedAgent } from './limits/limited-agent';
import { message, request } from './test/fixtures';
import { sleep } from './test/peers';

const HOLD_SLOTS = fileURLToPath(new URL('./test/hold-slots.mjs', import.meta.url));

/** An agent whose deliveries finish when the test says so. */
class GatedAgent implements DeliveryAgent {
  readonly running: (() => void)[] = [];
  async deliver(req: DeliveryRequest): Promise<DeliveryReport> {
    await new Promise<void>((resolve) => this.running.push(resolve));
    return {
      status: 'attempted',
      results: req.recipients.map((r) => ({
        recipientId: r.id,
        address: r.address,
        kind: 'delivered' as const,
        code: 250,
        text: 'ok',
        source: 'remote' as const,
      })),
    };
  }
  finishAll(): void {
    for (const done of this.running.splice(0)) done();
  }
  async close(): Promise<void> {
    /* nothing */
  }
}

const until = async (check: () => boolean, ms = 20_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
};

describe('per-destination concurrency limit (Redis)', () => {
  let redis: Redis;
  let test: Awaited<ReturnType<typeof createTestRedis>>;

  beforeAll(async () => {
    test = await createTestRedis();
    redis = new Redis(test.url, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await test.cleanup();
    redis.disconnect();
  });

  it('refuses the third concurrent delivery to one domain across two workers (deferred-local)', async () => {
    const prefix = `${test.prefix}:three`;
    const workers = [new GatedAgent(), new GatedAgent()];
    const agents = workers.map(
      (inner) =>
        new ConcurrencyLimitedAgent(inner, {
          limiter: new RedisDestinationLimiter({ redis, prefix, limit: 2 }),
          retryAfterMs: 1_000,
          waitForSlotMs: 0,
          random: () => 0,
        }),
    );
    const req = (to: string) => request([to], message('limit'), { destination: to.split('@')[1] });
    const first = agents[0].deliver(req('a@busy.test'));
    const second = agents[1].deliver(req('b@busy.test'));
    await until(() => workers[0].running.length + workers[1].running.length === 2);

    const third = await agents[1].deliver(req('c@busy.test'));
    expect(third.status).toBe('deferred-local');
    expect(third.retryAfterMs).toBe(1_000);
    expect(third.results[0]).toMatchObject({
      kind: 'deferred',
      code: 451,
      enhanced: '4.4.5',
      source: 'local',
    });

    // Another destination is not affected.
    const other = agents[0].deliver(req('d@quiet.test'));
    await until(() => workers[0].running.length === 2);

    workers.forEach((w) => w.finishAll());
    expect((await first).status).toBe('attempted');
    expect((await second).status).toBe('attempted');
    expect((await other).status).toBe('attempted');
    // Slots were given back: the next delivery gets one.
    const limiter = new RedisDestinationLimiter({ redis, prefix, limit: 2 });
    expect(await limiter.inUse('busy.test')).toBe(0);
    const again = agents[1].deliver(req('e@busy.test'));
    await until(() => workers[1].running.length === 1);
    workers[1].finishAll();
    expect((await again).status).toBe('attempted');
  });

  it('waits a moment for a slot that is freed, and gives the job back when none is', async () => {
    const prefix = `${test.prefix}:wait`;
    const inner = new GatedAgent();
    const limiter = new RedisDestinationLimiter({ redis, prefix, limit: 1 });
    const agent = new ConcurrencyLimitedAgent(inner, { limiter, waitForSlotMs: 1_000 });
    const req = (to: string) => request([to], message('wait'), { destination: 'full.test' });
    const first = agent.deliver(req('a@full.test'));
    await until(() => inner.running.length === 1);
    // The second waits; the slot comes free and it goes.
    const second = agent.deliver(req('b@full.test'));
    await until(() => agent.waitingFor('full.test') === 1);
    expect(inner.running).toHaveLength(1);
    inner.finishAll();
    await until(() => inner.running.length === 1);
    expect((await first).status).toBe('attempted');
    // A third finds the slot taken for longer than it waits: deferred-local after about 1 s.
    const t0 = Date.now();
    const third = await agent.deliver(req('c@full.test'));
    expect(third.status).toBe('deferred-local');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    // An abort (shutdown) ends the wait at once: this agent would wait ten minutes for the
    // slot, far past the test's deadline.
    const patient = new ConcurrencyLimitedAgent(inner, { limiter, waitForSlotMs: 600_000 });
    const aborted = new AbortController();
    const fourth = patient.deliver({ ...req('d@full.test'), signal: aborted.signal });
    aborted.abort();
    expect((await fourth).status).toBe('deferred-local');
    inner.finishAll();
    expect((await second).status).toBe('attempted');
  });

  it('lets no more deliveries wait for a destination than it has slots: the rest go back at once', async () => {
    const prefix = `${test.prefix}:waiters`;
    const inner = new GatedAgent();
    const agent = new ConcurrencyLimitedAgent(inner, {
      limiter: new RedisDestinationLimiter({
        redis,
        prefix,
        limit: 20,
        limitFor: (d) => (d === 'slow.test' ? 1 : undefined),
      }),
      // Ten minutes: a delivery that waited instead of going back at once would hold the test
      // past its deadline.
      waitForSlotMs: 600_000,
    });
    const req = (to: string) => request([to], message('waiters'), { destination: to.split('@')[1] });
    const holding = agent.deliver(req('a@slow.test'));
    await until(() => inner.running.length === 1);
    const waiting = agent.deliver(req('b@slow.test')); // one slot: one may wait for it
    await until(() => agent.waitingFor('slow.test') === 1);
    const third = await agent.deliver(req('c@slow.test')); // a second waiter: given back at once
    expect(third.status).toBe('deferred-local');
    // Another destination goes at once, whatever waits for slow.test.
    const other = agent.deliver(req('d@fast.test'));
    await until(() => inner.running.length === 2);
    inner.running.shift()?.(); // a@slow.test done: b takes its slot
    await until(() => inner.running.length === 2);
    inner.finishAll();
    expect((await Promise.all([holding, waiting, other])).map((r) => r.status)).toEqual([
      'attempted',
      'attempted',
      'attempted',
    ]);
  });

  it('gives a kill -9ed worker’s slots back within a few heartbeats, not a minute', async () => {
    const prefix = `${test.prefix}:killed`;
    const limiter = new RedisDestinationLimiter({ redis, prefix, limit: 2 }); // the production lease
    const key = limiter.keyOf('crash.test');
    const latestExpiry = async () => {
      const scores = await Promise.all(
        (await redis.zrange(key, '0', '-1')).map((id) => redis.zscore(key, id)),
      );
      return Math.max(0, ...scores.map(Number));
    };
    const worker = spawnPeer(process.execPath, [HOLD_SLOTS, test.url, prefix, 'crash.test', '2']);
    try {
      await waitUntil('the worker holds both slots', () => worker.output().includes('held'), 20_000, 20);
      const firstExpiry = await latestExpiry();
      // While it lives its heartbeat keeps the slots past their first lease time.
      await waitUntil(
        'a lease renewed a whole lease time later',
        async () => (await latestExpiry()) >= firstExpiry + limiter.leaseMs,
        20_000,
      );
      expect(await limiter.acquire('crash.test')).toBeNull();
    } finally {
      worker.child.kill('SIGKILL');
      await worker.stop();
    }
    // Dead: its leases end with their last heartbeat; another worker gets a slot within one lease
    // time (a 20 s bound, far under the former 60 s lease).
    const next = await waitUntil(
      'another worker gets a slot',
      () => limiter.acquire('crash.test'),
      20_000,
      50,
    );
    expect(await limiter.inUse('crash.test')).toBe(1);
    await next.release();
    expect(await limiter.inUse('crash.test')).toBe(0);
  });

  it('lets an unrenewed lease expire (renew then reports it lost)', async () => {
    const limiter = new RedisDestinationLimiter({
      redis,
      prefix: `${test.prefix}:expiry`,
      limit: 1,
      leaseMs: 300,
    });
    const lease = await limiter.acquire('stale.test');
    expect(lease).not.toBeNull();
    // Its holder stops beating without releasing (what a frozen process does): the server drops it.
    await redis.zadd(limiter.keyOf('stale.test'), 'XX', 0, lease?.id ?? '');
    const next = await limiter.acquire('stale.test');
    expect(next).not.toBeNull();
    expect(await lease?.renew()).toBe(false); // the stale lease is gone for good
    await lease?.release();
    await next?.release();
    expect(await limiter.inUse('stale.test')).toBe(0);
  });

  it('keeps the slot of a long delivery by renewing its lease', async () => {
    const prefix = `${test.prefix}:renew`;
    // A lease long enough that a busy CI machine's event-loop stalls cannot outlast it.
    const limiter = new RedisDestinationLimiter({ redis, prefix, limit: 1, leaseMs: 1000 });
    const inner = new GatedAgent();
    const agent = new ConcurrencyLimitedAgent(inner, { limiter }); // renews every third of the limiter's leaseMs
    const long = agent.deliver(request(['a@slow.test'], message('renew')));
    await until(() => inner.running.length === 1);
    // The lease's expiry (its score, on Redis's clock) as first granted; then wait, on Redis's
    // clock too, until three lease lifetimes have passed since: only renewals keep it alive.
    const expiry = async () => Number((await redis.zrange(limiter.keyOf('slow.test'), '0', '0', 'WITHSCORES'))[1]);
    const redisNow = async () => {
      const [seconds, micros] = await redis.time();
      return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    };
    const granted = await expiry();
    await waitUntil('three lease lifetimes on Redis', async () => (await redisNow()) > granted + 2_000, 30_000);
    expect(await expiry()).toBeGreaterThan(granted + 2_000); // renewed, more than once
    expect(await limiter.acquire('slow.test')).toBeNull();
    inner.finishAll();
    await long;
    expect(await limiter.inUse('slow.test')).toBe(0);
    // The key disappears with its last lease (no garbage left in Redis).
    expect(await redis.exists(limiter.keyOf('slow.test'))).toBe(0);
  });

  it('counts idle sessions: a lease becomes an idle slot, another is kept only below the limit', async () => {
    const limiter = new RedisDestinationLimiter({ redis, prefix: `${test.prefix}:idle`, limit: 2 });
    const [one, two] = [await limiter.acquire('idle.test'), await limiter.acquire('idle.test')];
    // At the limit: each delivery's lease turns into its session's idle slot.
    const idle = [await one?.idle(), await two?.idle()];
    expect(idle.every((slot) => slot && !slot.signal.aborted)).toBe(true);
    expect(await limiter.inUse('idle.test')).toBe(2);
    // Just past it: a second session of a spent lease finds the destination full.
    expect(await one?.idle()).toBeNull();
    await one?.release(); // spent: releasing it frees nothing
    expect(await limiter.inUse('idle.test')).toBe(2);
    for (const slot of idle) await slot?.release();
    expect(await limiter.inUse('idle.test')).toBe(0);
    // Below the limit a spent lease still gets one.
    const three = await limiter.acquire('idle.test');
    await three?.release();
    const kept = await three?.idle();
    expect(kept).not.toBeNull();
    await kept?.release();
    expect(await redis.exists(limiter.keyOf('idle.test'))).toBe(0);
  });

  it('takes over an idle slot for a delivery at the limit: its own at once, another process’s once closed', async () => {
    const prefix = `${test.prefix}:takeover`;
    const here = new RedisDestinationLimiter({ redis, prefix, limit: 1 });
    const there = new RedisDestinationLimiter({ redis, prefix, limit: 1 });
    const parked = await (await here.acquire('full.test'))?.idle();
    if (!parked) throw new Error('no idle slot');
    // A delivery of the same process: granted at once, the session is its to take.
    const own = await here.acquire('full.test');
    expect(own).not.toBeNull();
    expect(parked.takenHere).toBe(true);
    await parked.release(); // taken over: nothing of it is left to free
    expect(await here.inUse('full.test')).toBe(1);
    const idleThere = await own?.idle();
    if (!idleThere) throw new Error('no idle slot');
    // A delivery of another process: its slot comes once the idle session's process has seen
    // the loss (its heartbeat) and closed the session (here: released the slot).
    let closed = false;
    idleThere.signal.addEventListener('abort', () => {
      closed = true;
      void idleThere.release();
    });
    const other = await there.acquire('full.test');
    expect(other).not.toBeNull();
    expect(closed).toBe(true);
    expect(idleThere.takenHere).toBe(false);
    expect(await there.inUse('full.test')).toBe(1);
    await other?.release();
    expect(await there.inUse('full.test')).toBe(0);
  });

  it('defers locally when Redis cannot be reached, without delivering', async () => {
    const broken = new Redis('redis://127.0.0.1:1', {
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    broken.on('error', () => undefined);
    const inner = new GatedAgent();
    const agent = new ConcurrencyLimitedAgent(inner, {
      limiter: new RedisDestinationLimiter({ redis: broken, prefix: 'x' }),
    });
    const report = await agent.deliver(request(['a@down.test'], message('down')));
    expect(report.status).toBe('deferred-local');
    expect(report.results[0].text).toMatch(/unavailable/);
    // By default it comes back after 1-2 s (jitter), not seconds later.
    expect(report.retryAfterMs).toBeGreaterThanOrEqual(1_000);
    expect(report.retryAfterMs).toBeLessThanOrEqual(2_000);
    expect(inner.running).toHaveLength(0);
    broken.disconnect();
  });
});
