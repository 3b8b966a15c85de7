/**
 * MTA-STS for sending (RFC 8461): discovery of the `_mta-sts` TXT record, the HTTPS fetch of
 * `https://mta-sts.<domain>/.well-known/mta-sts.txt` with the certificate validated (WebPKI:
 * the process's trust store, which `NODE_EXTRA_CA_CERTS` extends), parsing, and the rules of
 * which policy applies (a cached one until `max_age`, refreshed when the TXT id changes).
 *
 * Discovery, fetch and parsing are mailauth's (`mailauth/lib/mta-sts`, the library that does
 * our SPF/DKIM/DMARC already), in its RFC-exact `strict` mode: §3.3 only HTTP 200 and
 * `text/plain`, no redirects, a DNS-ID certificate match, at most 64 KiB, and an expired
 * policy is never used. What is ours: the cache shared across workers (`PolicyStore`,
 * Redis), one fetch per domain at a time in a process, and the TLS-RPT failure type of a
 * failed fetch (RFC 8460 §4.3.2.3).
 */
import { getPolicy } from 'mailauth/lib/mta-sts';
import type { DNSResolver, MTASTSPolicy } from 'mailauth';
import type { DnsResolveFunction } from '@mta/dns';
import type { CachedPolicy, PolicyStore } from './store';

export interface MtaStsOptions {
  /** DNS for the TXT record and the policy host's address (`DNS_SERVERS`, `createDnsResolve`). */
  readonly resolve: DnsResolveFunction;
  readonly store: PolicyStore;
  /** Whole HTTPS fetch, ms (RFC 8461 §3.3 suggests a minute at most). */
  readonly fetchTimeoutMs?: number;
}

export interface MtaStsLookup {
  /** The policy in force (any mode), or null: the domain has none we can use. */
  readonly policy: CachedPolicy | null;
  /** Where it came from: `fetched` now, `cached`, `none` (no TXT record), `failed`. */
  readonly source: 'fetched' | 'cached' | 'none' | 'failed';
  /** A discovery or fetch failure, as a TLS-RPT result type (RFC 8460 §4.3.2.3). */
  readonly fetchError?: TlsRptFetchError;
}

export type TlsRptFetchError = 'sts-policy-fetch-error' | 'sts-policy-invalid' | 'sts-webpki-invalid';

export class MtaStsPolicies {
  private readonly running = new Map<string, Promise<MtaStsLookup>>();

  constructor(private readonly options: MtaStsOptions) {}

  /** The MTA-STS policy of `domain` (lower-case A-label). Never rejects: failures are reported. */
  lookup(domain: string): Promise<MtaStsLookup> {
    const key = domain.toLowerCase().replace(/\.$/, '');
    let p = this.running.get(key);
    if (!p) {
      p = this.refresh(key).finally(() => this.running.delete(key));
      this.running.set(key, p);
    }
    return p;
  }

  private async refresh(domain: string): Promise<MtaStsLookup> {
    let known: CachedPolicy | null = null;
    try {
      known = await this.options.store.get(domain);
    } catch {
      /* Redis unreachable: fetch as if nothing was cached */
    }
    const result = await getPolicy(domain, known ? toMailauth(known) : null, {
      resolver: textAnswers(this.options.resolve),
      strict: true,
      timeout: this.options.fetchTimeoutMs ?? 60_000,
    });
    const p = result.policy;
    if (result.status === 'not_found') return { policy: null, source: 'none' };
    if (result.status === 'renewed') return { policy: known, source: 'cached' };
    if (result.status === 'found') {
      const policy = fromMailauth(p);
      if (!policy) return { policy: null, source: 'failed', fetchError: 'sts-policy-invalid' };
      await this.save(domain, policy);
      return { policy, source: 'fetched' };
    }
    // errored: a still valid cached policy goes on being used (RFC 8461 §5.1) ...
    const fetchError = classify(p.error);
    if (known && p.id === known.id && p.expires === known.expires) {
      return { policy: known, source: 'cached', fetchError };
    }
    // ... else mailauth's stand-in (mode none, an hour) stops every delivery from trying again.
    const standIn = fromMailauth(p);
    if (standIn) await this.save(domain, { ...standIn, fetchError });
    return { policy: null, source: 'failed', fetchError };
  }

  private async save(domain: string, policy: CachedPolicy): Promise<void> {
    try {
      await this.options.store.set(domain, policy);
    } catch {
      /* not cached: the next delivery fetches again */
    }
  }
}

/** mailauth's MTA-STS code asks for TXT, A and AAAA only: answers made of strings. */
function textAnswers(resolve: DnsResolveFunction): DNSResolver {
  return async (name, rrtype) => {
    const answer = await resolve(name, rrtype);
    const strings: string[] = [];
    const lists: string[][] = [];
    for (const a of answer) {
      if (typeof a === 'string') strings.push(a);
      else if (Array.isArray(a)) lists.push(a);
    }
    return lists.length > 0 ? lists : strings;
  };
}

function toMailauth(p: CachedPolicy): MTASTSPolicy {
  return { id: p.id, mode: p.mode, mx: [...p.mx], maxAge: p.maxAge, expires: p.expires };
}

function fromMailauth(p: MTASTSPolicy): CachedPolicy | null {
  if (typeof p.id !== 'string' || typeof p.expires !== 'string') return null;
  return { id: p.id, mode: p.mode, mx: p.mx ?? [], maxAge: p.maxAge ?? 0, expires: p.expires };
}

/** RFC 8460 §4.3.2.3: which of the three MTA-STS result types a discovery/fetch error is. */
export function classify(error: unknown): TlsRptFetchError {
  const code = String((error as { code?: unknown } | undefined)?.code ?? '');
  if (/^(invalid_sts|multi_sts|policy_too_large|invalid_content_type)/.test(code))
    return 'sts-policy-invalid';
  if (/^(ERR_TLS_CERT|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_SSL|HOSTNAME_MISMATCH)/.test(code))
    return 'sts-webpki-invalid';
  return 'sts-policy-fetch-error';
}
