import { describe, expect, it } from 'vitest';
import { DnsCache } from './cache';

function clock() {
  let now = 1_000_000;
  return { now: () => now, advance: (seconds: number) => (now += seconds * 1000) };
}

describe('DnsCache', () => {
  it('keeps an answer for its TTL and no longer', () => {
    const c = clock();
    const cache = new DnsCache<string>({ now: c.now });
    cache.set('MX a.test', 'x', 30);
    c.advance(29.9);
    expect(cache.get('MX a.test')).toBe('x');
    c.advance(0.1);
    expect(cache.get('MX a.test')).toBeUndefined();
  });

  it('does not store TTL 0', () => {
    const cache = new DnsCache<string>();
    cache.set('A a.test', 'x', 0);
    expect(cache.get('A a.test')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('caps positive and negative TTLs separately', () => {
    const c = clock();
    const cache = new DnsCache<string>({ now: c.now, maxTtlSeconds: 100, maxNegativeTtlSeconds: 10 });
    cache.set('positive', 'p', 1_000_000);
    cache.set('negative', 'n', 1_000_000, true);
    c.advance(10);
    expect(cache.get('negative')).toBeUndefined();
    expect(cache.get('positive')).toBe('p');
    c.advance(90);
    expect(cache.get('positive')).toBeUndefined();
  });

  it('evicts the least recently used entry when full', () => {
    const cache = new DnsCache<number>({ maxEntries: 2 });
    cache.set('a', 1, 60);
    cache.set('b', 2, 60);
    cache.get('a');
    cache.set('c', 3, 60);
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
  });

  it('refuses a size below one', () => {
    expect(() => new DnsCache({ maxEntries: 0 })).toThrow(/maxEntries/);
  });
});
