/**
 * A bounded cache of DNS answers, one entry per record set (name + type), kept for the TTL the
 * answer carried (RFC 1035 §3.2.1, RFC 2181 §5.2: the TTL of an RRset is the lowest TTL of
 * its records) and, for negative answers, for the SOA-derived negative TTL of RFC 2308 §5,
 * both capped. When full, the least recently used entry is evicted.
 */

export interface DnsCacheOptions {
  /** entries kept at most; least recently used go first (default 10 000) */
  maxEntries?: number;
  /** cap on positive TTLs in seconds (default 86 400, one day) */
  maxTtlSeconds?: number;
  /** cap on negative TTLs in seconds (default 3 600; RFC 2308 §5 suggests 1-3 hours) */
  maxNegativeTtlSeconds?: number;
  /** clock in milliseconds; tests inject one (default `Date.now`) */
  now?: () => number;
}

interface Entry<V> {
  value: V;
  expires: number;
}

export class DnsCache<V = unknown> {
  readonly maxEntries: number;
  readonly maxTtlSeconds: number;
  readonly maxNegativeTtlSeconds: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry<V>>();

  constructor(options: DnsCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.maxTtlSeconds = options.maxTtlSeconds ?? 86_400;
    this.maxNegativeTtlSeconds = options.maxNegativeTtlSeconds ?? 3_600;
    this.now = options.now ?? Date.now;
    if (!(this.maxEntries >= 1)) throw new RangeError('DnsCache: maxEntries must be at least 1');
  }

  /** The value stored under `key` if it has not expired. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    // Map keeps insertion order: re-inserting makes this entry the most recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value` for `ttlSeconds` (capped); a TTL of 0 or less stores nothing. */
  set(key: string, value: V, ttlSeconds: number, negative = false): void {
    const cap = negative ? this.maxNegativeTtlSeconds : this.maxTtlSeconds;
    const ttl = Math.min(ttlSeconds, cap);
    this.entries.delete(key);
    if (!(ttl > 0)) return;
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    this.entries.set(key, { value, expires: this.now() + ttl * 1000 });
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
