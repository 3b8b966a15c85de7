import { loadConfig } from '@mta/config';
import { expiresAt, resolveSchedule, retryDelay } from './schedule';
import { describe, expect, it } from 'vitest';
import { scheduleFromConfig } from './schedule-from-config';

const scheduleOf = (env: Record<string, string>) => resolveSchedule(scheduleFromConfig(loadConfig(env)));
const middle = () => 0.5; // no jitter

describe('the retry schedule from RETRY_FIRST_MS, RETRY_MAX_MS, RETRY_EXPIRE_MS', () => {
  it('defaults to 5 minutes doubling up to 4 hours, for 5 days', () => {
    const s = scheduleOf({});
    expect(retryDelay(s, 1, middle)).toBe(5 * 60_000);
    expect(retryDelay(s, 2, middle)).toBe(10 * 60_000);
    expect(retryDelay(s, 20, middle)).toBe(4 * 3_600_000);
    expect(expiresAt(s, new Date(0)).getTime()).toBe(5 * 86_400_000);
  });

  it('retries as the settings say: first delay, doubling, capped at the maximum, until the expiry', () => {
    const s = scheduleOf({ RETRY_FIRST_MS: '1000', RETRY_MAX_MS: '3000', RETRY_EXPIRE_MS: '60000' });
    expect([1, 2, 3, 4].map((n) => retryDelay(s, n, middle))).toEqual([1000, 2000, 3000, 3000]);
    expect(expiresAt(s, new Date(0)).getTime()).toBe(60_000);
    // The maximum may equal the first delay: every retry after the same time.
    const flat = scheduleOf({ RETRY_FIRST_MS: '60000', RETRY_MAX_MS: '60000' });
    expect([1, 5].map((n) => retryDelay(flat, n, middle))).toEqual([60_000, 60_000]);
  });
});
