/**
 * Where fetched MTA-STS policies are kept between deliveries, shared by every delivery
 * process: one Redis key per policy domain, `<prefix>:mta-sts:<domain>`, holding the policy as
 * JSON and expiring with it (RFC 8461 §3.2 `max_age`, §5.1: a policy is used until it
 * expires, and refreshed before that when the `_mta-sts` TXT id changes). A worker that
 * restarts finds them there.
 */
import type { Redis } from 'ioredis';

/** A policy as cached: RFC 8461 §3.2 fields plus the TXT id and when it expires. */
export interface CachedPolicy {
  /** The `id=` of the `_mta-sts` TXT record it was fetched for. */
  readonly id: string;
  readonly mode: 'enforce' | 'testing' | 'none';
  /** `mx:` patterns, lower case; `*.example.org` matches one left-most label. */
  readonly mx: readonly string[];
  /** `max_age` in seconds. */
  readonly maxAge: number;
  /** ISO time; after it the policy is not used. */
  readonly expires: string;
  /**
   * Set on the stand-in kept after a failed fetch (mode `none`, valid for an hour, so that
   * every delivery does not try again): the TLS-RPT failure type (RFC 8460 §4.3.2.3).
   */
  readonly fetchError?: string;
}

export interface PolicyStore {
  get(domain: string): Promise<CachedPolicy | null>;
  set(domain: string, policy: CachedPolicy): Promise<void>;
}

export class RedisPolicyStore implements PolicyStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(domain: string): string {
    return `${this.prefix}:mta-sts:${domain}`;
  }

  async get(domain: string): Promise<CachedPolicy | null> {
    const text = await this.redis.get(this.key(domain));
    if (!text) return null;
    try {
      return parseCached(JSON.parse(text));
    } catch {
      return null; // not ours, or from an older version: fetch again
    }
  }

  async set(domain: string, policy: CachedPolicy): Promise<void> {
    const ttlMs = Date.parse(policy.expires) - Date.now();
    if (!(ttlMs > 0)) return;
    await this.redis.set(this.key(domain), JSON.stringify(policy), 'PX', Math.ceil(ttlMs));
  }
}

function parseCached(v: unknown): CachedPolicy | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const modes = ['enforce', 'testing', 'none'] as const;
  const mode = modes.find((m) => m === o.mode);
  if (typeof o.id !== 'string' || !mode || typeof o.maxAge !== 'number' || typeof o.expires !== 'string')
    return null;
  const mx = Array.isArray(o.mx) ? o.mx.filter((m): m is string => typeof m === 'string') : [];
  const fetchError = typeof o.fetchError === 'string' ? o.fetchError : undefined;
  return { id: o.id, mode, mx, maxAge: o.maxAge, expires: o.expires, ...(fetchError ? { fetchError } : {}) };
}
