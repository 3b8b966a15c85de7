import { describe, expect, it } from 'vitest';
import { RETRY_MAX_MS, retryDelay } from './store';

describe('retryDelay', () => {
  const policy = { firstMs: 5_000, windowMs: 86_400_000 };

  it.each([
    [1, 5_000],
    [2, 10_000],
    [3, 20_000],
    [10, 2_560_000],
    [11, RETRY_MAX_MS], // 5 120 000 ms, capped at an hour
    [1000, RETRY_MAX_MS],
  ])('after failure %i: %i ms', (failures, ms) => {
    expect(retryDelay(policy, failures)).toBe(ms);
  });
});
