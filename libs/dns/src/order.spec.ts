import { describe, expect, it } from 'vitest';
import { orderAddresses, sortByPreference } from './order';

/** A random source that returns the given numbers in turn, forever. */
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length];
};

describe('sortByPreference (RFC 5321 §5.1)', () => {
  const records = [
    { exchange: 'c', preference: 20 },
    { exchange: 'a', preference: 10 },
    { exchange: 'b', preference: 10 },
    { exchange: 'd', preference: 5 },
  ];

  it('puts the lowest preference first', () => {
    const sorted = sortByPreference(records, () => 0);
    expect(sorted.map((r) => r.preference)).toEqual([5, 10, 10, 20]);
    expect(sorted[0].exchange).toBe('d');
    expect(sorted[3].exchange).toBe('c');
  });

  it('shuffles equal preferences: both orders happen with the injected random source', () => {
    const middle = (random: () => number) =>
      sortByPreference(records, random)
        .slice(1, 3)
        .map((r) => r.exchange)
        .join('');
    expect(middle(sequence(0))).toBe('ba');
    expect(middle(sequence(0.99))).toBe('ab');
  });

  it('gives every order of three equals over many draws with Math.random', () => {
    const three = [1, 2, 3].map((n) => ({ exchange: String(n), preference: 0 }));
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++)
      seen.add(
        sortByPreference(three, Math.random)
          .map((r) => r.exchange)
          .join(''),
      );
    expect(seen.size).toBe(6);
  });

  it('does not modify its input', () => {
    const copy = structuredClone(records);
    sortByPreference(records, Math.random);
    expect(records).toEqual(copy);
  });
});

describe('orderAddresses', () => {
  const v4 = ['192.0.2.1', '192.0.2.2'];
  const v6 = ['2001:db8::1'];
  const order = (preference: Parameters<typeof orderAddresses>[2]) =>
    orderAddresses(v4, v6, preference).map((a) => `${a.family}:${a.address}`);

  it.each([
    ['interleave', ['6:2001:db8::1', '4:192.0.2.1', '4:192.0.2.2']],
    ['ipv6', ['6:2001:db8::1', '4:192.0.2.1', '4:192.0.2.2']],
    ['ipv4', ['4:192.0.2.1', '4:192.0.2.2', '6:2001:db8::1']],
    ['ipv4-only', ['4:192.0.2.1', '4:192.0.2.2']],
    ['ipv6-only', ['6:2001:db8::1']],
  ] as const)('%s', (preference, expected) => {
    expect(order(preference)).toEqual(expected);
  });

  it('interleaves families when both have several addresses', () => {
    const out = orderAddresses(['192.0.2.1', '192.0.2.2'], ['2001:db8::1', '2001:db8::2'], 'interleave');
    expect(out.map((a) => a.family)).toEqual([6, 4, 6, 4]);
  });
});
