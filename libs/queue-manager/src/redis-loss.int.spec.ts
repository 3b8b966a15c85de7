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
  ({ h, close, forgetRedis } = await openHarness({ reconcileIntervalMs: 3_600_000, receivedGraceMs: 0 }));
});
afterAll(() => close?.());

describe('a Redis that lost its data', () => {
  it('is noticed and reconciled at once: the lost delivery jobs reappear without waiting for the timer', async () => {
    const delivery = h.producer.queue(QueueName.Delivery);
    await delivery.pause(); // the jobs wait in Redis, as a backlog does
    const messages = await Promise.all(
      ['one', 'two', 'three'].map((n) => h.store({ recipients: [{ address: `${n}@lost.example` }] })),
    );
    const waiting = async () => {
      const counts = await delivery.getJobCounts('wait', 'delayed', 'prioritized');
      return Object.values(counts).reduce((a, b) => a + b, 0);
    };
    await waitFor(async () => (await waiting()) === 3, 10_000, 'jobs queued');

    await forgetRedis(); // every key of the prefix: the jobs and the pause are gone
    expect(await waiting()).toBe(0);

    // The watch (1 s) notices the loss: the reconciler puts the jobs back and they are delivered,
    // each once, long before the hour of the periodic run (bound 20 s).
    for (const m of messages)
      await waitFor(
        async () => (await h.db.message.findUniqueOrThrow({ where: { id: m.id } })).state === 'done',
        20_000,
        `message ${m.queueId} done`,
      );
    for (const n of ['one', 'two', 'three']) expect(h.fake.count(`${n}@lost.example`)).toBe(1);
  });
});
