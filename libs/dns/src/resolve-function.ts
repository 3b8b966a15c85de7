/**
 * A resolver with the shape of Node's `dns.promises.resolve(name, rrtype)`, for libraries that
 * take one (mailauth's SPF, DKIM, DMARC and ARC code), built on our `RecordLookup`: the
 * configured servers (`DNS_SERVERS`), the TTL cache, CNAME chains and TCP fallback.
 *
 * Answers are shaped as Node's are: A/AAAA/CNAME/PTR/NS a list of strings, TXT a list of
 * records each a list of its character-strings, MX `{ exchange, priority }`. Failures reject
 * with an Error whose `code` is the one Node's resolver uses, because that is what callers
 * branch on: `ENOTFOUND` (NXDOMAIN), `ENODATA` (no record of that type) mean "no record";
 * `ETIMEOUT`, `ESERVFAIL`, `EREFUSED`, `ECONNREFUSED` mean "try again later" (an SPF
 * `temperror`, RFC 7208 §2.6.6 and §4.4); `EBADNAME` is a name that cannot exist.
 */
import type { MxData, RecordType, TxtData } from 'dns-packet';
import { DnsCache } from './cache';
import { normalize, RecordLookup, type LookupResult, type RecordData } from './lookup';
import { resolveServers } from './servers';
import type { DnsServer } from './transport';

/** MX records as Node's `dns.resolveMx` gives them. */
export interface MxRecordAnswer {
  exchange: string;
  priority: number;
}

export type DnsAnswer = string[] | string[][] | MxRecordAnswer[];

/** `(name, rrtype) => Promise<answer>`, as `dns.promises.resolve`. */
export type DnsResolveFunction = (name: string, rrtype: string) => Promise<DnsAnswer>;

/** A failed lookup, shaped as Node's resolver errors (`code`, `hostname`, `syscall`). */
export class DnsResolveError extends Error {
  readonly syscall: string;
  constructor(
    readonly code: string,
    readonly hostname: string,
    rrtype: string,
    detail?: string,
  ) {
    const syscall = `query${rrtype.charAt(0)}${rrtype.slice(1).toLowerCase()}`;
    super(`${syscall} ${code} ${hostname}${detail ? ` (${detail})` : ''}`);
    this.name = 'DnsResolveError';
    this.syscall = syscall;
  }
}

export interface DnsResolveOptions {
  /** resolvers to ask, in order; empty or absent: the system's (/etc/resolv.conf) */
  servers?: readonly DnsServer[];
  /** wait per query, server and try (default 5000 ms) */
  timeoutMs?: number;
  /** rounds over the server list (default 2) */
  tries?: number;
  /** answer cache, shareable with an `MxResolver` (default: a new DnsCache); `false` for none */
  cache?: DnsCache | false;
}

const SUPPORTED = new Set<string>(['A', 'AAAA', 'CNAME', 'MX', 'NS', 'PTR', 'TXT']);

/** Transport failures by `DnsTransportError.reason` / RCODE, as Node's error codes. */
const ERROR_CODES: Record<string, string> = {
  timeout: 'ETIMEOUT',
  SERVFAIL: 'ESERVFAIL',
  REFUSED: 'EREFUSED',
  NOTIMP: 'ENOTIMP',
  FORMERR: 'EFORMERR',
  network: 'ECONNREFUSED',
  config: 'ECONNREFUSED',
  malformed: 'EBADRESP',
};

/** Builds the resolve function; throws for a bad configuration, as `MxResolver` does. */
export function createDnsResolve(options: DnsResolveOptions = {}): DnsResolveFunction {
  const cache = options.cache === false ? undefined : (options.cache ?? new DnsCache());
  const lookup = new RecordLookup(
    {
      servers: resolveServers(options.servers),
      timeoutMs: options.timeoutMs ?? 5000,
      tries: options.tries ?? 2,
    },
    cache,
  );
  return async (name, rrtype) => {
    const type = rrtype.toUpperCase();
    if (!SUPPORTED.has(type)) throw new DnsResolveError('ENOTIMP', name, type, 'record type not supported');
    const ascii = normalize(name);
    if (!isDnsName(ascii)) throw new DnsResolveError('EBADNAME', name, type);
    return answer(await lookup.lookup(ascii, type as RecordType), name, type);
  };
}

function answer(result: LookupResult, name: string, type: string): DnsAnswer {
  switch (result.kind) {
    case 'nxdomain':
      throw new DnsResolveError('ENOTFOUND', name, type);
    case 'nodata':
      throw new DnsResolveError('ENODATA', name, type);
    case 'error':
      throw new DnsResolveError(ERROR_CODES[result.reason] ?? 'ESERVFAIL', name, type, result.reason);
    case 'records':
      if (type === 'MX')
        return result.records
          .filter(isMx)
          .map((r) => ({ exchange: r.exchange, priority: r.preference ?? 0 }));
      if (type === 'TXT') return result.records.filter(isTxt).map(txtStrings);
      return result.records.filter((r): r is string => typeof r === 'string');
  }
}

const isMx = (r: RecordData): r is MxData =>
  typeof r === 'object' && !Array.isArray(r) && !Buffer.isBuffer(r);
const isTxt = (r: RecordData): r is TxtData => !isMx(r);

/** One TXT record's character-strings (RFC 1035 §3.3.14), not joined: callers join them. */
function txtStrings(data: TxtData): string[] {
  const parts = Array.isArray(data) ? data : [data];
  return parts.map((p) => (typeof p === 'string' ? p : p.toString('utf8')));
}

/** RFC 1035 §2.3.4: labels of 1-63 octets, at most 253 octets in all (no trailing dot). */
function isDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((label) => label.length > 0 && label.length <= 63);
}
