import { describe, expect, it } from 'vitest';
import { newQueueId, QUEUE_ID_PATTERN } from './queue-id';

describe('newQueueId', () => {
  it('is 16 characters of Crockford base 32', () => {
    for (let i = 0; i < 1000; i++) expect(newQueueId()).toMatch(QUEUE_ID_PATTERN);
  });

  it('sorts by time', () => {
    const ids = [0, 1, 31, 32, 1_700_000_000_000, 1_700_000_000_001, 2 ** 48 - 1].map((t) => newQueueId(t));
    expect([...ids].sort()).toEqual(ids);
    expect(newQueueId(0).slice(0, 10)).toBe('0000000000');
  });

  it('never repeats within one process, even for 100,000 ids in one millisecond', () => {
    const now = Date.now();
    const ids = new Set(Array.from({ length: 100_000 }, () => newQueueId(now)));
    expect(ids.size).toBe(100_000);
  });

  it('draws the random part afresh in a new millisecond', () => {
    const a = newQueueId(1_700_000_000_000);
    const b = newQueueId(1_700_000_000_001);
    const c = newQueueId(1_700_000_000_002);
    const next = (id: string) => randomPart(id.slice(10));
    // Sequential random parts across milliseconds would mean the draw never happened.
    expect([next(b) - next(a), next(c) - next(b)]).not.toEqual([1, 1]);
  });
});

/** The random part of an id as its number (least significant character first). */
function randomPart(random: string): number {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  return [...random].reduceRight((n, ch) => n * 32 + alphabet.indexOf(ch), 0);
}
