import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_SCHEDULE, Harness, openHarness, LATER, OK, waitFor } from './testing/harness';

// Batches of the router and the outcome applier, driven directly (routeMany / applyMany) so
// that each batch holds exactly what the test puts in it.
const schedule = FAST_SCHEDULE;

let h: Harness;
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ h, close } = await openHarness({ schedule, reconcileIntervalMs: 0 }));
});
afterAll(() => close?.());

const state = async (id: string) => (await h.db.message.findUniqueOrThrow({ where: { id } })).state;
const NONE = '00000000-0000-0000-0000-000000000000';

describe('router batches', () => {
  it('routes several messages in one batch, each once, and answers every job of the batch', async () => {
    const a = await h.store({ recipients: [{ address: 'a@r1.example' }], enqueue: false });
    const b = await h.store({
      recipients: [{ address: 'b@r1.example' }, { address: 'c@r2.example' }],
      enqueue: false,
    });
    const results = await h.qm.router.routeMany([a.id, b.id, NONE, a.id]);
    expect(results).toEqual([
      { routed: true, jobs: 1 },
      { routed: true, jobs: 2 },
      { routed: false, reason: 'missing' },
      { routed: true, jobs: 1 }, // the same message twice in one batch: routed once, both told
    ]);
    await waitFor(async () => (await state(a.id)) === 'done' && (await state(b.id)) === 'done');
    expect(['a@r1.example', 'b@r1.example', 'c@r2.example'].map((x) => h.fake.count(x))).toEqual([1, 1, 1]);
    const routed = await h.db.event.findMany({ where: { messageId: { in: [a.id, b.id] }, type: 'routed' } });
    expect(routed.map((e) => e.messageId).sort()).toEqual([a.id, b.id].sort());
    // A replay of the batch finds nothing left to route.
    expect(await h.qm.router.routeMany([a.id, b.id])).toEqual([
      { routed: false, reason: 'not-received' },
      { routed: false, reason: 'not-received' },
    ]);
  });
});

describe('an accepted job of several messages', () => {
  it('routes its messages in one batch', async () => {
    const ms = await Promise.all(
      ['x@r3.example', 'y@r3.example', 'z@r3.example'].map((address) =>
        h.store({ recipients: [{ address }], enqueue: false }),
      ),
    );
    const routeBatches = async () => {
      const text = await h.registry.metrics();
      const read = (name: string) =>
        Number(new RegExp(`mta_queue_batch_jobs_${name}\\{kind="route"\\} (\\d+)`).exec(text)?.[1] ?? 0);
      return { count: read('count'), sum: read('sum') };
    };
    const before = await routeBatches();
    const results = await h.qm.router.routeAll(ms.map((m) => m.id));
    expect(results).toEqual([1, 1, 1].map((jobs) => ({ routed: true, jobs })));
    // One by one, the first would go alone and the other two in a second batch.
    expect(await routeBatches()).toEqual({ count: before.count + 1, sum: before.sum + 3 });
  });
});

describe('outcome batches', () => {
  it('applies outcomes of several messages in one batch: results, retries, done, and a duplicate once', async () => {
    // Queued messages with no delivery job: the outcomes below are the only ones they get.
    const two = await h.store({
      recipients: [{ address: 'x@o1.example' }, { address: 'y@o2.example' }],
      enqueue: false,
    });
    const slow = await h.store({ recipients: [{ address: 'z@o3.example' }], enqueue: false });
    await h.db.message.updateMany({ where: { id: { in: [two.id, slow.id] } }, data: { state: 'queued' } });
    const outcome = (messageId: string, destination: string, recipientId: string, reply: typeof OK) => ({
      messageId,
      route: 'remote' as const,
      destination,
      attempt: 1,
      results: [{ recipientId, ...reply }],
    });
    const x = outcome(two.id, 'o1.example', two.rcpt['x@o1.example'], OK);
    const results = await h.qm.applier.applyMany([
      x,
      outcome(two.id, 'o2.example', two.rcpt['y@o2.example'], OK),
      outcome(slow.id, 'o3.example', slow.rcpt['z@o3.example'], LATER),
      x, // a replay next to the original
      outcome(NONE, 'o4.example', NONE, OK),
    ]);
    expect(results.map((r) => [r.applied, r.delivered, r.deferred, r.failed])).toEqual([
      [1, 1, 0, 0],
      [1, 1, 0, 0],
      [1, 0, 1, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    expect(results[2].nextAttemptAt).toBeInstanceOf(Date);
    // Both outcomes of one message in one batch: its recipients are all delivered, so it is done.
    expect(await state(two.id)).toBe('done');
    expect(await h.db.deliveryAttempt.count({ where: { messageId: two.id } })).toBe(2);
    expect(await h.db.event.count({ where: { messageId: two.id, type: 'delivered' } })).toBe(2);
    // The deferred one got its retry job (attempt 2), which the fake delivers.
    await waitFor(async () => (await state(slow.id)) === 'done', 10_000, 'retried message done');
    expect(
      h.fake.deliveries.filter((d) => d.addresses.includes('z@o3.example')).map((d) => d.attempt),
    ).toEqual([2]);
  });

  it('counts the size of every batch', async () => {
    const m = await h.store({ recipients: [{ address: 'm@o5.example' }] }); // through the workers
    await waitFor(async () => (await state(m.id)) === 'done');
    const text = await h.registry.metrics();
    expect(text).toMatch(/mta_queue_batch_jobs_count\{kind="route"\} [1-9]/);
    expect(text).toMatch(/mta_queue_batch_jobs_count\{kind="outcome"\} [1-9]/);
  });
});
