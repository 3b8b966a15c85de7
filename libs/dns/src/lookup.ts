/**
 * One record set by name and type, with CNAME chains followed (RFC 1034 §3.6.2, §5.2.2),
 * answers cached within their TTL and negative answers for their RFC 2308 §5 TTL, and
 * concurrent identical questions sharing one query.
 */
import type { Answer, MxData, OptAnswer, RecordType, TxtData } from 'dns-packet';
import type { DnsCache } from './cache';
import { DnsTransportError, query, type DnsResponse, type TransportOptions } from './transport';

/** CNAME hops followed at most, over all re-queries (BIND and Unbound stop around 8-16). */
const MAX_CNAME_HOPS = 8;

/**
 * The data of the record types we ask for: A, AAAA, CNAME, PTR and NS give a name or address,
 * MX the exchange, TXT its character-strings (RFC 1035 §3.3.14) as dns-packet decodes them.
 */
export type RecordData = string | MxData | TxtData;
type Rr = Exclude<Answer, OptAnswer>;

export type LookupResult =
  /** `name` is the canonical name (end of the CNAME chain); records are of the type asked. */
  | { kind: 'records'; name: string; records: RecordData[] }
  /** the name (or the end of its CNAME chain) does not exist (RCODE 3) */
  | { kind: 'nxdomain'; name: string }
  /** the name exists but has no records of this type */
  | { kind: 'nodata'; name: string }
  /** no usable answer: timeout, SERVFAIL, REFUSED, CNAME loop; try again later */
  | { kind: 'error'; name: string; reason: string; message: string };

interface Cached {
  result: LookupResult;
}

export class RecordLookup {
  private readonly inFlight = new Map<string, Promise<LookupResult>>();

  constructor(
    private readonly transport: TransportOptions,
    private readonly cache: DnsCache | undefined,
  ) {}

  lookup(name: string, type: RecordType): Promise<LookupResult> {
    return this.cached(normalize(name), type, MAX_CNAME_HOPS);
  }

  private cached(name: string, type: RecordType, hops: number): Promise<LookupResult> {
    const key = `${type} ${name}`;
    const hit = this.cache?.get(key) as Cached | undefined;
    if (hit) return Promise.resolve(hit.result);
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const promise = this.fresh(name, type, hops).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }

  private async fresh(name: string, type: RecordType, hops: number): Promise<LookupResult> {
    let response: DnsResponse;
    try {
      response = await query(name, type, this.transport);
    } catch (err) {
      const reason = err instanceof DnsTransportError ? err.reason : 'error';
      return { kind: 'error', name, reason, message: (err as Error).message };
    }
    const followed = followChain(name, type, response, hops);
    if (followed.result.kind === 'error') return followed.result;
    let result: LookupResult = followed.result;
    let ttl = followed.ttl;
    // The answer stopped at a CNAME whose target it says nothing about (an authoritative-only
    // server, or a chain longer than the server follows): ask for the target ourselves.
    if (followed.dangling) {
      result = await this.cached(result.name, type, hops - followed.hopsUsed);
      if (result.kind === 'error') return result;
      ttl = Math.min(ttl, 0); // the target has its own cache entry; do not cache the chain
    }
    this.cache?.set(`${type} ${name}`, { result }, ttl, result.kind !== 'records');
    return result;
  }
}

interface Followed {
  result: LookupResult;
  /** seconds the result may be cached: lowest TTL along the chain (RFC 2308 §5 if negative) */
  ttl: number;
  dangling: boolean;
  hopsUsed: number;
}

/** Walks the answer section from `name` through CNAMEs to the records of `type`. */
function followChain(name: string, type: RecordType, response: DnsResponse, hops: number): Followed {
  let current = name;
  let ttl = Infinity;
  const seen = new Set([name]);
  for (let used = 0; ; used++) {
    const rrs = response.answers.filter((a): a is Rr => a.type === type && normalize(a.name) === current);
    if (rrs.length > 0) {
      // RFC 2181 §5.2: an RRset's TTLs should agree; use the lowest if they do not.
      ttl = Math.min(ttl, ...rrs.map((r) => r.ttl ?? 0));
      const records = rrs.map((r) => r.data as RecordData);
      return { result: { kind: 'records', name: current, records }, ttl, dangling: false, hopsUsed: used };
    }
    const cname = response.answers.find((a): a is Rr => a.type === 'CNAME' && normalize(a.name) === current);
    if (!cname) {
      const negativeTtl = Math.min(ttl, soaNegativeTtl(response));
      if (response.rcode === 'NXDOMAIN') {
        return {
          result: { kind: 'nxdomain', name: current },
          ttl: negativeTtl,
          dangling: false,
          hopsUsed: used,
        };
      }
      if (response.rcode !== 'NOERROR') {
        const message = `DNS query ${type} ${name} answered ${response.rcode}`;
        return {
          result: { kind: 'error', name, reason: response.rcode, message },
          ttl: 0,
          dangling: false,
          hopsUsed: used,
        };
      }
      // NOERROR without records: NODATA, unless we stopped at a CNAME target that the server
      // did not resolve and gave no SOA for (then the target must be asked separately).
      const dangling = current !== name && !response.authorities.some((a) => a.type === 'SOA');
      return { result: { kind: 'nodata', name: current }, ttl: negativeTtl, dangling, hopsUsed: used };
    }
    ttl = Math.min(ttl, cname.ttl ?? 0);
    current = normalize(cname.data as string);
    if (seen.has(current) || used + 1 >= hops) {
      const message = `CNAME chain from ${name} loops or is longer than ${MAX_CNAME_HOPS} names`;
      return {
        result: { kind: 'error', name, reason: 'CNAME loop', message },
        ttl: 0,
        dangling: false,
        hopsUsed: used,
      };
    }
    seen.add(current);
  }
}

/** RFC 2308 §5: a negative answer lives for min(SOA TTL, SOA MINIMUM); no SOA, no caching. */
function soaNegativeTtl(response: DnsResponse): number {
  const soa = response.authorities.find((a) => a.type === 'SOA');
  if (!soa || soa.type !== 'SOA') return 0;
  return Math.min(soa.ttl ?? 0, soa.data.minimum ?? 0);
}

/** Lower case, no trailing dot: the form every name is compared and cached in. */
export function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}
