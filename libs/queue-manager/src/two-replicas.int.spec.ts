/**
 * Two queue managers on one PostgreSQL database and one Redis prefix (two replicas of the `queue`
 * service), as Kubernetes runs them: both route, apply outcomes, retry, bounce and reconcile at
 * the same time. What must hold: every message routed once, one DSN per bounce, one delivery job
 * per (destination, attempt), and one of them can be stopped without routing stopping.
 */
import { redisReady } from '@mta/queue';
import { createTestDatabase, createTestRedis, type TestDatabase } from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_SCHEDULE, Harness, LATER, NO_SUCH_USER, waitFor } from './testing/harness';

let database: TestDatabase;
let redis: Awaited<ReturnType<typeof createTestRedis>>;
/** Replica A also runs the (fake) delivery worker; B is a queue manager only. */
let a: Harness;
let b: Harness;

beforeAll(async () => {
  [database, redis] = await Promise.all([createTestDatabase(), createTestRedis()]);
  const options = { schedule: FAST_SCHEDULE, reconcileIntervalMs: 0, receivedGraceMs: 0 };
  a = new Harness(database.url, redis.url, redis.prefix, options);
  b = new Harness(database.url, redis.url, redis.prefix, options);
  await a.db.domain.create({ data: { name: 'example.net', type: 'local' } });
  await a.start();
  await redisReady(b.redis);
  await b.qm.start();
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await redis?.cleanup();
  await database?.drop();
});

/** Jobs the queue manager of `h` handled, by kind (its own metrics registry). */
async function batchJobs(h: Harness, kind: 'route' | 'outcome'): Promise<number> {
  const text = await h.registry.getSingleMetricAsString('mta_queue_batch_jobs');
  const sum = new RegExp(`^mta_queue_batch_jobs_sum\\{kind="${kind}"\\} (\\d+)$`, 'm').exec(text);
  return Number(sum?.[1] ?? 0);
}

const allDone = async (ids: string[]) =>
  (await a.db.message.count({ where: { id: { in: ids }, state: 'done' } })) === ids.length;

/** Counts per key that are not exactly `expected`. */
function notExactly<T>(items: T[], key: (t: T) => string, expected = 1): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n !== expected));
}

describe('two queue managers on one database and one Redis', () => {
  it('route, retry and bounce 60 messages together: each routed once, one job per attempt, one DSN per bounce', async () => {
    const messages: { id: string; rcpt: Record<string, string> }[] = [];
    const reconciling: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      // Every third message has a recipient that is deferred once, every fifth one that fails.
      const later = `later${i}@d${i % 7}.example`;
      const failing = `nobody${i}@d${i % 7}.example`;
      if (i % 3 === 0) a.fake.answer(later, LATER);
      if (i % 5 === 0) a.fake.answer(failing, NO_SUCH_USER);
      messages.push(
        await a.store({
          recipients: [
            { address: `ok${i}@d${i % 7}.example` },
            ...(i % 3 === 0 ? [{ address: later }] : []),
            ...(i % 5 === 0 ? [{ address: failing, notify: ['FAILURE' as const] }] : []),
          ],
        }),
      );
      // Both reconcilers run while the work goes on (each takes the lock or stands aside).
      if (i % 10 === 0) reconciling.push(a.qm.reconcileNow(), b.qm.reconcileNow());
    }
    await Promise.all(reconciling);
    const ids = messages.map((m) => m.id);
    await waitFor(() => allDone(ids), 60_000, 'every message done');
    const dsns = await a.db.message.findMany({ where: { source: 'bounce' }, select: { id: true } });
    await waitFor(() => allDone(dsns.map((d) => d.id)), 30_000, 'every DSN delivered');

    // Both replicas did part of the work.
    expect(await batchJobs(a, 'route')).toBeGreaterThan(0);
    expect(await batchJobs(b, 'route')).toBeGreaterThan(0);
    expect((await batchJobs(a, 'outcome')) + (await batchJobs(b, 'outcome'))).toBeGreaterThan(0);

    // Each message (originals and DSNs) routed exactly once.
    const routed = await a.db.event.findMany({ where: { type: 'routed' }, select: { messageId: true } });
    expect(notExactly(routed, (e) => e.messageId ?? '')).toEqual({});
    expect(new Set(routed.map((e) => e.messageId)).size).toBe(ids.length + dsns.length);
    // One delivery job per (message, destination, attempt), run once; each recipient handed to
    // delivery once, the deferred ones twice (attempts 1 and 2); one per DSN to the sender.
    const handed = a.fake.deliveries.flatMap((d) =>
      d.addresses.map((address) => ({ address, job: d.jobId })),
    );
    expect(notExactly(handed, (d) => `${d.job} ${d.address}`)).toEqual({});
    const original = handed.filter((d) => d.address !== 'alice@example.net');
    expect(notExactly(original, (d) => d.address, 1)).toEqual(
      Object.fromEntries(
        messages.flatMap((_, i) => (i % 3 === 0 ? [[`later${i}@d${i % 7}.example`, 2]] : [])),
      ),
    );
    expect(handed.filter((d) => d.address === 'alice@example.net')).toHaveLength(dsns.length);
    // One attempt row per delivery: no outcome applied twice.
    expect(await a.db.deliveryAttempt.count()).toBe(handed.length);
    // One DSN per failed message, one `bounced` event per failed recipient.
    const failed = messages.filter((_, i) => i % 5 === 0).length;
    expect(dsns).toHaveLength(failed);
    const bounced = await a.db.event.findMany({ where: { type: 'bounced' }, select: { recipientId: true } });
    expect(bounced).toHaveLength(failed);
    expect(notExactly(bounced, (e) => e.recipientId ?? '')).toEqual({});
  }, 120_000);

  it('the same step run by both at the same moment happens once', async () => {
    const m = await a.store({ recipients: [{ address: 'race@race.example' }], enqueue: false });
    const results = await Promise.all([a.qm.router.route(m.id), b.qm.router.route(m.id)]);
    expect(results.filter((r) => r.routed)).toHaveLength(1);
    await waitFor(() => allDone([m.id]), 10_000, 'message done');
    expect(a.fake.count('race@race.example')).toBe(1);
    // The same outcome applied by both: one attempt row, one transition.
    const outcome = {
      messageId: m.id,
      route: 'remote' as const,
      destination: 'race.example',
      attempt: 1,
      results: [
        { recipientId: m.rcpt['race@race.example'], kind: 'delivered' as const, code: 250, text: 'Ok' },
      ],
    };
    await Promise.all([a.qm.applier.apply(outcome), b.qm.applier.apply(outcome)]);
    expect(await a.db.deliveryAttempt.count({ where: { messageId: m.id } })).toBe(1);
    // Two reconciler runs at the same moment: one runs, the other stands aside.
    const runs = await Promise.all([a.qm.reconciler.run(), b.qm.reconciler.run()]);
    expect(runs.filter((r) => r === null)).toHaveLength(1);
  });

  it('with one stopped (drained), the other routes and finishes everything', async () => {
    await a.qm.stop(); // the worker of delivery keeps running: only the queue manager goes
    const routeA = await batchJobs(a, 'route');
    const routeB = await batchJobs(b, 'route');
    const ids: string[] = [];
    for (let i = 0; i < 20; i++)
      ids.push((await a.store({ recipients: [{ address: `after${i}@d${i % 3}.example` }] })).id);
    await waitFor(() => allDone(ids), 30_000, 'every message done by B');
    expect(await batchJobs(a, 'route')).toBe(routeA);
    expect((await batchJobs(b, 'route')) - routeB).toBe(20);
    const handed = a.fake.deliveries.filter((d) => d.addresses.some((x) => x.startsWith('after')));
    expect(handed).toHaveLength(20);
  });
});
