// One destination's share of a delivery process (process-share.ts): the size, the wait, the handover.
import { describe, expect, it } from 'vitest';
import { ProcessShare, destinationShare } from './process-share';

describe('destinationShare', () => {
  it.each([
    [1, 1], // a process of one: the one delivery
    [2, 1],
    [3, 2],
    [4, 3],
    [20, 15], // the default DELIVERY_CONCURRENCY: 5 kept for other destinations
    [100, 75],
  ])('a process of %i gives one destination at most %i', (concurrency, share) => {
    expect(destinationShare(concurrency)).toBe(share);
  });
});

describe('ProcessShare', () => {
  const LONG = 60_000; // waits that only a release may end

  it('claims up to the share at once, then refuses without waiting when told not to', async () => {
    const share = new ProcessShare(20);
    for (let i = 0; i < 15; i++) expect(await share.claim('a.test', 0)).toBe(true);
    expect(await share.claim('a.test', 0)).toBe(false);
    expect(await share.claim('b.test', 0)).toBe(true); // another destination has its own share
  });

  it('lets all but one of the slots past the share wait, and refuses the last at once', async () => {
    const share = new ProcessShare(20); // share 15: 4 may wait, the 20th slot never does
    for (let i = 0; i < 15; i++) await share.claim('a.test', 0);
    const waiting = Array.from({ length: 4 }, () => share.claim('a.test', LONG));
    expect(await share.claim('a.test', LONG)).toBe(false);
    // Each release hands its claim to the oldest waiter: all four get one, in order.
    const order: number[] = [];
    waiting.forEach((w, i) => void w.then(() => order.push(i)));
    for (let i = 0; i < 4; i++) share.release('a.test');
    expect(await Promise.all(waiting)).toEqual([true, true, true, true]);
    expect(order).toEqual([0, 1, 2, 3]);
    // The handed-over claims count: still at the share, no room for a newcomer.
    expect(await share.claim('a.test', 0)).toBe(false);
  });

  it('gives up a wait after waitMs, and a newcomer cannot take a claim handed to a waiter', async () => {
    const share = new ProcessShare(4); // share 3, no waiting (4 - 3 - 1 = 0)
    for (let i = 0; i < 3; i++) await share.claim('a.test', 0);
    expect(await share.claim('a.test', LONG)).toBe(false);
    const big = new ProcessShare(8); // share 6, 1 may wait
    for (let i = 0; i < 6; i++) await big.claim('a.test', 0);
    expect(await big.claim('a.test', 20)).toBe(false); // timed out: nothing released
    const waiter = big.claim('a.test', LONG);
    big.release('a.test');
    expect(await big.claim('a.test', 0)).toBe(false); // the released claim went to the waiter
    expect(await waiter).toBe(true);
    big.release('a.test');
    expect(await big.claim('a.test', 0)).toBe(true);
  });

  it('without a concurrency, claims everything', async () => {
    const share = new ProcessShare();
    for (let i = 0; i < 100; i++) expect(await share.claim('a.test', 0)).toBe(true);
  });
});
