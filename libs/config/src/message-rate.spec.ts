import { describe, expect, it } from 'vitest';
import { formatMessageRate, parseMessageRate } from './message-rate';

describe('parseMessageRate', () => {
  it('reads quantity/period with the units KumoMTA accepts', () => {
    expect(parseMessageRate('10/s')).toEqual({ count: 10, periodMs: 1_000 });
    expect(parseMessageRate('50/min')).toEqual({ count: 50, periodMs: 60_000 });
    expect(parseMessageRate('1,000/hr')).toEqual({ count: 1000, periodMs: 3_600_000 });
    expect(parseMessageRate('10_000/day')).toEqual({ count: 10_000, periodMs: 86_400_000 });
    expect(parseMessageRate(' 5 / Second ')).toEqual({ count: 5, periodMs: 1_000 });
  });

  it('refuses what is not a rate, zero, and more than 100000/s', () => {
    expect(parseMessageRate('10')).toMatch(/expected a rate/);
    expect(parseMessageRate('10/week')).toMatch(/expected a rate/);
    expect(parseMessageRate('-1/s')).toMatch(/expected a rate/);
    expect(parseMessageRate('0/s')).toMatch(/at least 1/);
    expect(parseMessageRate('100000/s')).toEqual({ count: 100_000, periodMs: 1_000 });
    expect(parseMessageRate('100001/s')).toMatch(/at most 100000/);
  });

  it('writes the canonical form back', () => {
    for (const text of ['10/s', '50/min', '1000/h', '10000/day']) {
      const rate = parseMessageRate(text);
      expect(typeof rate === 'string' ? rate : formatMessageRate(rate)).toBe(text);
    }
  });
});
