import { describe, expect, it } from 'vitest';
import { settlesWithin } from './job-worker';

describe('settlesWithin', () => {
  it('is true for a promise that resolves or rejects in time, false for one that does not', async () => {
    expect(await settlesWithin(Promise.resolve(1), 50)).toBe(true);
    expect(await settlesWithin(Promise.reject(new Error('closed badly')), 50)).toBe(true);
    expect(await settlesWithin(new Promise(() => undefined), 20)).toBe(false);
    expect(await settlesWithin(new Promise((r) => setTimeout(r, 200)), 20)).toBe(false);
  });
});
