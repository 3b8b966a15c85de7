/**
 * Redis losing the queues under a running queue manager whose periodic reconciler would not run
 * for an hour: the loss is noticed (the marker key is gone) and the jobs come back at once.
 */
import { QueueName } from '@mta/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, openHarness, waitFor } from './testing/harness';

let h: Harness;
let close: (() => Promise<void>) | undefined;
let forgetRedis: () => Promise<void>;

beforeAll(async () => {
  ({ h, close, forgetRedis } = await openHarness({
    reconcileIntervalMs: 3_600_000,
    receivedGraceMs: 0,
    reconcileBatch: 2, // a run puts back at most 2 messages: catching up takes several
  }));
});
afterAll(() => close?.());

describe('a Redis that lost its data', () => {
  it('is noticed and reconciled at once: the lost delivery jobs reappear without waiting for the timer', async () => {
    const delivery = h.producer.queue(QueueName.Delivery);
    await h.fake.stop(); // no delivery worker: the jobs wait in Redis, as a backlog does
    const names = Array.from({ length: 12 }, (_, i) => `lost${i}`);
    const messages = await Promise.all(
      names.map((n) => h.store({ recipients: [{ address: `${n}@lost.example` }] })),
    );
    const waiting = async () => (await delivery.getJobCounts('wait')).wait;
    await waitFor(async () => (await waiting()) === names.length, 10_000, 'jobs queued');

    await forgetRedis(); // every key of the prefix: the jobs are gone
    expect(await waiting()).toBe(0);

    // The watch (1 s) notices the loss and the reconciler puts every job back, long before the
    // hour of the periodic run (bound 20 s). 12 recipients, 10 per page (reconcileBatch 2 × 5):
    // the second run pages past the first run's jobs, still waiting, to the last 2.
    await waitFor(async () => (await waiting()) === names.length, 20_000, 'the jobs back');
    h.fake.start(h.workerConnection, h.prefix);
    for (const m of messages)
      await waitFor(
        async () => (await h.db.message.findUniqueOrThrow({ where: { id: m.id } })).state === 'done',
        20_000,
        `message ${m.queueId} done`,
      );
    for (const n of names) expect(h.fake.count(`${n}@lost.example`)).toBe(1); // each once
  });

  it('reconciles again and again until caught up, a batch per run, not a batch per interval', async () => {
    const accepted = h.producer.queue(QueueName.Accepted);
    await accepted.pause(); // received, not routed yet: their accepted jobs wait in Redis
    const names = ['r1', 'r2', 'r3', 'r4', 'r5'];
    const messages = await Promise.all(
      names.map((n) => h.store({ recipients: [{ address: `${n}@backlog.example` }] })),
    );
    await waitFor(
      async () => (await accepted.getJobCounts('wait')).wait === names.length,
      10_000,
      'accepted jobs queued',
    );
    await forgetRedis();

    // 5 lost messages, 2 per run: only back-to-back runs bring all of them back this soon.
    for (const m of messages)
      await waitFor(
        async () => (await h.db.message.findUniqueOrThrow({ where: { id: m.id } })).state === 'done',
        20_000,
        `message ${m.queueId} done`,
      );
    for (const n of names) expect(h.fake.count(`${n}@backlog.example`)).toBe(1);
  });
});
