/**
 * Lookups whose DNSSEC status matters (DANE, RFC 7672 §2.1): asked of one validating resolver
 * the operator names (never the general DNS_SERVERS), with the AD bit requested (RFC 6840 §5.7)
 * and believed only from it. Nothing is cached here: the resolver caches.
 */
import type { RecordType } from 'dns-packet';
import { query, DnsTransportError, type DnsServer } from './transport';

export interface TlsaRecord {
  /** 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE (RFC 6698 §2.1.1, RFC 7218). */
  readonly usage: number;
  /** 0 full certificate, 1 SubjectPublicKeyInfo. */
  readonly selector: number;
  /** 0 exact, 1 SHA-256, 2 SHA-512. */
  readonly matchingType: number;
  readonly data: Buffer;
}

export type SecureLookup<T> =
  /** Validated (AD) records. */
  | { readonly status: 'secure'; readonly records: readonly T[] }
  /** Validated denial: the name or the type does not exist (NXDOMAIN, NODATA with AD). */
  | { readonly status: 'secure-none' }
  /** An answer without AD: an unsigned zone (or one we cannot validate). */
  | { readonly status: 'insecure' }
  /** SERVFAIL (a bogus signature fails validation so), a timeout, a network error. */
  | { readonly status: 'failed'; readonly reason: string };

export interface SecureLookupOptions {
  readonly resolver: DnsServer;
  readonly timeoutMs?: number;
}

async function secureAnswers(name: string, type: RecordType, o: SecureLookupOptions) {
  try {
    const r = await query(name, type, {
      servers: [o.resolver],
      timeoutMs: o.timeoutMs ?? 5000,
      tries: 2,
      dnssec: true,
    });
    if (r.rcode !== 'NOERROR' && r.rcode !== 'NXDOMAIN')
      return { status: 'failed' as const, reason: r.rcode };
    if (!r.authenticated) return { status: 'insecure' as const };
    const answers = r.answers.filter((a) => a.type === type);
    return answers.length === 0 ? { status: 'secure-none' as const } : { status: 'secure' as const, answers };
  } catch (e) {
    return { status: 'failed' as const, reason: e instanceof DnsTransportError ? e.reason : 'error' };
  }
}

/** TLSA records of `_port._tcp.host` (RFC 7672 §2.2.3). */
export async function lookupTlsa(
  host: string,
  port: number,
  o: SecureLookupOptions,
): Promise<SecureLookup<TlsaRecord>> {
  const r = await secureAnswers(`_${port}._tcp.${host}`, 'TLSA', o);
  if (r.status !== 'secure') return r;
  const records = r.answers.flatMap((a) =>
    a.type === 'TLSA'
      ? [
          {
            usage: a.data.usage,
            selector: a.data.selector,
            matchingType: a.data.matchingType,
            data: a.data.certificate,
          },
        ]
      : [],
  );
  return { status: 'secure', records };
}

/** Whether the MX RRset of `domain` is DNSSEC-validated (RFC 7672 §2.2.1), with its exchanges. */
export async function lookupSecureMx(domain: string, o: SecureLookupOptions): Promise<SecureLookup<string>> {
  const r = await secureAnswers(domain, 'MX', o);
  if (r.status !== 'secure') return r;
  const records = r.answers.flatMap((a) =>
    a.type === 'MX' ? [a.data.exchange.toLowerCase().replace(/\.$/, '')] : [],
  );
  return { status: 'secure', records };
}
