import { describe, expect, it } from 'vitest';
import { restartDelay } from './backoff';

describe('restartDelay', () => {
  it('doubles from the first delay at each failure in a row', () => {
    expect([1, 2, 3, 4, 5].map((n) => restartDelay(n))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
  });

  it('stops at the longest delay, also after very many failures', () => {
    expect(restartDelay(6)).toBe(30_000);
    expect(restartDelay(10_000)).toBe(30_000);
    expect(restartDelay(3, { firstMs: 100, maxMs: 300 })).toBe(300);
  });

  it('treats 0 failures as the first', () => {
    expect(restartDelay(0, { firstMs: 50 })).toBe(50);
  });
});
