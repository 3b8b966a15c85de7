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

  it('does not repeat', () => {
    const now = Date.now();
    const ids = new Set(Array.from({ length: 10_000 }, () => newQueueId(now)));
    expect(ids.size).toBeGreaterThan(9_990); // 30 random bits per millisecond
  });
});
