import { QueueName } from '@mta/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, openHarness, LATER, waitFor } from './testing/harness';
import { Reconciler } from './reconciler';

// Retries after 1.5 s, so a deferred recipient's delayed job is still in Redis when it is flushed.
const schedule = {
  firstRetryMs: 1500,
  multiplier: 1,
  maxIntervalMs: 1500,
  jitter: 0,
  expireAfterMs: 3_600_000,
  delayWarningAfterMs: 3_600_000,
};

let h: Harness;
let close: (() => Promise<void>) | undefined;
let forgetRedis: () => Promise<void>;

beforeAll(async () => {
  ({ h, close, forgetRedis } = await openHarness({
    schedule,
    reconcileIntervalMs: 0,
    redisWatchMs: 0, // these runs are the test's own (redis-loss.int.spec.ts covers the watch)
    receivedGraceMs: 0,
  }));
});
afterAll(() => close?.());

const state = async (id: string) => (await h.db.message.findUniqueOrThrow({ where: { id } })).state;

/** The queue manager's reconciler as it will run `ms` from now (its clock moved, nobody sleeping). */
const reconcilerIn = (ms: number, options: { receivedGraceMs?: number } = {}) =>
  new Reconciler(
    { ...h.qm.ctx, ...options, now: () => new Date(Date.now() + ms) },
    h.qm.dispatcher,
    h.qm.settler,
  );

describe('reconciler', () => {
  it('after Redis loses every key, brings back each undelivered message and delivers nothing twice', async () => {
    h.fake.answer('slow@r.example', LATER);
    const delivered = await h.store({ recipients: [{ address: 'ok@r.example' }] });
    const deferred = await h.store({
      recipients: [{ address: 'slow@r.example' }, { address: 'fast@r.example' }],
    });
    const orphan = await h.store({ recipients: [{ address: 'orphan@r.example' }], enqueue: false });
    await waitFor(async () => (await state(delivered.id)) === 'done', 10_000, 'first message done');
    await waitFor(
      async () => (await h.recipient(deferred.rcpt['slow@r.example'])).status === 'deferred',
      10_000,
      'deferred',
    );

    // Nothing lost yet: the orphan's accepted job is the only thing missing.
    const first = await h.qm.reconciler.run();
    expect(first).toMatchObject({ accepted: 1, deliveries: 0 });
    await waitFor(async () => (await state(orphan.id)) === 'done', 10_000, 'orphan done');

    // Redis forgets everything under the prefix: the delayed retry job is gone.
    await forgetRedis();
    expect(await h.producer.queue(QueueName.Delivery).getJobCounts('delayed', 'wait')).toEqual({
      delayed: 0,
      wait: 0,
    });
    const later = await h.store({ recipients: [{ address: 'after@r.example' }], enqueue: false });

    const second = await h.qm.reconciler.run();
    expect(second?.accepted).toBe(1); // the message stored while Redis was empty
    await waitFor(async () => (await state(later.id)) === 'done', 10_000, 'late message done');
    expect(second?.deliveries).toBe(0); // the deferred recipient is not due yet

    // Once the retry is due (1.5 s after the deferral): the reconciler's clock, not a sleep.
    const third = await reconcilerIn(schedule.firstRetryMs + 500).run();
    expect(third?.deliveries).toBe(1);
    await waitFor(async () => (await state(deferred.id)) === 'done', 10_000, 'deferred message done');

    expect(h.fake.count('ok@r.example')).toBe(1);
    expect(h.fake.count('fast@r.example')).toBe(1);
    expect(h.fake.count('slow@r.example')).toBe(2);
    expect(h.fake.count('orphan@r.example')).toBe(1);
    expect(h.fake.count('after@r.example')).toBe(1);

    // And a run with nothing to do does nothing.
    expect(await h.qm.reconciler.run()).toEqual({ accepted: 0, deliveries: 0, settled: 0 });
  });

  it('skips a run while another replica holds the lock', async () => {
    await h.redis.set(`${h.prefix}:queue-manager:reconciler-lock`, 'other', 'PX', 5000);
    expect(await h.qm.reconciler.run()).toBeNull();
    await h.redis.del(`${h.prefix}:queue-manager:reconciler-lock`);
    expect(await h.qm.reconciler.run()).not.toBeNull();
  });

  it('finishes a message whose DSN was not written (crash between two steps)', async () => {
    const m = await h.store({
      sender: 'gina@example.org',
      recipients: [{ address: 'lost@r.example' }],
      enqueue: false,
    });
    await h.db.message.update({ where: { id: m.id }, data: { state: 'queued' } });
    await h.db.recipient.update({
      where: { id: m.rcpt['lost@r.example'] },
      data: {
        status: 'failed',
        lastReplyCode: 550,
        lastEnhancedCode: '5.1.1',
        lastReplyText: 'gone',
        nextAttemptAt: null,
      },
    });
    const report = await h.qm.reconciler.run();
    expect(report?.settled).toBe(1);
    expect(await state(m.id)).toBe('done');
    const [dsn] = await h.dsnsTo('gina@example.org');
    expect(dsn).toBeDefined();
    await waitFor(async () => (await state(dsn.id)) === 'done', 10_000, 'DSN done');
    expect((await h.qm.reconciler.run())?.settled).toBe(0);
  });

  it('leaves a message to the pending job that holds it with others, and brings back one no job holds', async () => {
    // Intake sends the messages of several commits in one job (`accepted/<first>/<n>`), so the
    // reconciler cannot look a message's job up by its id: what was received well before the
    // oldest pending job was created cannot be in it.
    // Run as 1.2 s from now: every message is then older than the grace of 1 s.
    const reconciler = reconcilerIn(1200, { receivedGraceMs: 1000 });
    const accepted = h.producer.queue(QueueName.Accepted);
    await accepted.pause();
    // Received 1.5 s before the group's job is created: no pending job can hold it.
    const lost = await h.store({
      recipients: [{ address: 'lost-job@r.example' }],
      enqueue: false,
      receivedAt: new Date(Date.now() - 1500),
    });
    const a = await h.store({ recipients: [{ address: 'group-a@r.example' }], enqueue: false });
    const b = await h.store({ recipients: [{ address: 'group-b@r.example' }], enqueue: false });
    try {
      const group = await h.producer.enqueue(QueueName.Accepted, { messageIds: [a.id, b.id] });
      expect(group).toBe(`accepted/${a.id}/2`);

      expect(await reconciler.run()).toMatchObject({ accepted: 1 });
      expect(await accepted.getJob(`accepted/${lost.id}`)).toBeDefined();
      expect(await accepted.getJob(`accepted/${a.id}`)).toBeUndefined();
      expect(await accepted.getJob(`accepted/${b.id}`)).toBeUndefined();
      // Still pending: a second run adds nothing.
      expect(await reconciler.run()).toMatchObject({ accepted: 0 });
    } finally {
      await accepted.resume();
    }
    for (const address of ['lost-job@r.example', 'group-a@r.example', 'group-b@r.example'])
      await waitFor(async () => h.fake.count(address) === 1, 10_000, `${address} delivered`);

    // The group job ran but left a message unrouted (say it was written back to `received`):
    // nothing pending holds it any more, so it comes back under its own id.
    await h.db.message.update({ where: { id: b.id }, data: { state: 'received' } });
    expect(await reconciler.run()).toMatchObject({ accepted: 1 });
    expect(await accepted.getJob(`accepted/${b.id}`)).toBeDefined();
  });
});
