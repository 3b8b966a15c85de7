/**
 * Where to deliver mail for a domain: RFC 5321 §5.1 with RFC 7505 (null MX).
 *
 *   MX records, lowest preference first, equal preferences in random order
 *   → no MX record at all (NODATA): the domain itself, preference 0 (implicit MX)
 *   → NXDOMAIN: permanent failure; a null MX: permanent failure 556 5.1.10
 *   → each exchange's A and AAAA addresses (CNAMEs followed), hosts without any skipped
 *   → if we are one of the exchanges, only the more preferred ones (else 554 5.4.6).
 */
import net from 'node:net';
import { domainToASCII } from 'node:url';
import type { MxData } from 'dns-packet';
import { DnsCache } from './cache';
import { normalize, RecordLookup, type LookupResult } from './lookup';
import {
  orderAddresses,
  sortByPreference,
  wantsFamily,
  type AddressPreference,
  type MxAddress,
  type RandomSource,
} from './order';
import { replies, type MxFailure } from './replies';
import { resolveServers } from './servers';
import type { DnsServer } from './transport';

export interface MxResolverOptions {
  /** resolvers to ask, in order; empty or absent: the system's (/etc/resolv.conf) */
  servers?: readonly DnsServer[];
  /** wait per query, server and try (default 5000 ms, as resolv.conf's `timeout:5`) */
  timeoutMs?: number;
  /** rounds over the server list (default 2, as resolv.conf's `attempts:2`) */
  tries?: number;
  /** answer cache, shareable between resolvers; `false` for none (default: a new DnsCache) */
  cache?: DnsCache | false;
  /** address families and their order (default `interleave`: IPv6, IPv4, IPv6, ...) */
  addressPreference?: AddressPreference;
  /** our own host names: MX loop detection (RFC 5321 §5.1) */
  localHostnames?: readonly string[];
  /** order among equal preferences (default `Math.random`) */
  random?: RandomSource;
}

export interface MxHost {
  /** the exchange's name as the MX record gives it (A-labels, no trailing dot) */
  exchange: string;
  preference: number;
  /** in the order to try them */
  addresses: MxAddress[];
  /** true when there was no MX record and this is the domain itself (RFC 5321 §5.1) */
  implicit: boolean;
}

export interface MxSuccess {
  ok: true;
  /** the domain as looked up (A-labels) */
  domain: string;
  /** in the order to try them; never empty */
  hosts: MxHost[];
}

export type MxResult = MxSuccess | MxFailure;

interface Candidate {
  exchange: string;
  preference: number;
  implicit: boolean;
}

interface Resolved extends Candidate {
  addresses: MxAddress[];
  canonical: string;
  temporaryError?: string;
}

export class MxResolver {
  private readonly lookup: RecordLookup;
  private readonly preference: AddressPreference;
  private readonly local: Set<string>;
  private readonly random: RandomSource;

  constructor(options: MxResolverOptions = {}) {
    const cache = options.cache === false ? undefined : (options.cache ?? new DnsCache());
    this.lookup = new RecordLookup(
      {
        servers: resolveServers(options.servers),
        timeoutMs: options.timeoutMs ?? 5000,
        tries: options.tries ?? 2,
      },
      cache,
    );
    this.preference = options.addressPreference ?? 'interleave';
    this.local = new Set((options.localHostnames ?? []).map((h) => normalize(domainToASCII(h) || h)));
    this.random = options.random ?? Math.random;
  }

  /** The hosts to try for `domain` (lower-case ASCII or U-labels), or why there are none. */
  async resolveMx(domain: string): Promise<MxResult> {
    const literal = addressLiteral(domain);
    if (literal) return this.literalHost(domain, literal);
    const ascii = normalize(domainToASCII(domain.trim()));
    if (!isHostName(ascii)) return replies.invalidDomain(domain);

    const mx = await this.lookup.lookup(ascii, 'MX');
    let candidates: Candidate[];
    switch (mx.kind) {
      case 'error':
        return replies.temporary(ascii, mx.message);
      case 'nxdomain':
        return replies.nxdomain(ascii);
      case 'nodata':
        // RFC 5321 §5.1: no MX records → implicit MX: the domain itself, preference 0.
        candidates = [{ exchange: ascii, preference: 0, implicit: true }];
        break;
      case 'records': {
        const records = mx.records.map((r) => r as MxData);
        // RFC 7505 §3: a null MX is a lone MX with exchange "." (the root). A set made only of
        // root exchanges is treated alike; beside real exchanges, "." is ignored.
        const real = records.filter((r) => normalize(r.exchange) !== '');
        if (real.length === 0) return replies.nullMx(ascii);
        candidates = dedupe(real);
        break;
      }
    }

    const sorted = sortByPreference(candidates, this.random);
    const resolved = await Promise.all(sorted.map((c) => this.addresses(c)));
    const usable = this.withoutLoop(resolved);
    if (!usable) return replies.loop(ascii);
    const hosts = usable.filter((h) => h.addresses.length > 0);
    if (hosts.length > 0) {
      return {
        ok: true,
        domain: ascii,
        hosts: hosts.map(({ exchange, preference, addresses, implicit }) => ({
          exchange,
          preference,
          addresses,
          implicit,
        })),
      };
    }
    const temporary = usable.find((h) => h.temporaryError);
    return temporary ? replies.temporary(ascii, temporary.temporaryError as string) : replies.noHosts(ascii);
  }

  /**
   * RFC 5321 §5.1: if we are one of the exchanges, "all records at that preference level and
   * higher MUST be discarded"; none left means a loop. `undefined` for a loop.
   */
  private withoutLoop(hosts: Resolved[]): Resolved[] | undefined {
    const ours = hosts.filter((h) => this.local.has(h.exchange) || this.local.has(h.canonical));
    if (ours.length === 0) return hosts;
    const own = Math.min(...ours.map((h) => h.preference));
    const better = hosts.filter((h) => h.preference < own);
    return better.length > 0 ? better : undefined;
  }

  /** A and AAAA of one exchange, CNAMEs followed (RFC 5321 §5.1 forbids them; Postfix follows). */
  private async addresses(candidate: Candidate): Promise<Resolved> {
    // An exchange written as an IP address is not a host name (RFC 1035 §3.3.9); like Exim's
    // default (allow_mx_to_ip = false) we do not use it: the host is skipped.
    if (net.isIP(candidate.exchange)) return { ...candidate, addresses: [], canonical: candidate.exchange };
    const none: LookupResult = { kind: 'nodata', name: candidate.exchange };
    const [v4, v6] = await Promise.all([
      wantsFamily(this.preference, 4) ? this.lookup.lookup(candidate.exchange, 'A') : none,
      wantsFamily(this.preference, 6) ? this.lookup.lookup(candidate.exchange, 'AAAA') : none,
    ]);
    const list = (r: LookupResult) => (r.kind === 'records' ? r.records.map((a) => a as string) : []);
    const error = [v4, v6].find((r) => r.kind === 'error');
    return {
      ...candidate,
      addresses: orderAddresses(list(v4), list(v6), this.preference),
      canonical: v4.kind === 'records' ? v4.name : v6.name,
      temporaryError: error?.kind === 'error' ? error.message : undefined,
    };
  }

  /** `[192.0.2.1]` or `[IPv6:2001:db8::1]` (RFC 5321 §4.1.3): no DNS at all. */
  private literalHost(domain: string, address: MxAddress): MxResult {
    if (!wantsFamily(this.preference, address.family)) return replies.noHosts(domain);
    const host = { exchange: domain, preference: 0, addresses: [address], implicit: true };
    return { ok: true, domain, hosts: [host] };
  }
}

/** RFC 1035 §2.3.4: labels of 1-63 octets, 253 in all (255 on the wire); not an IP address. */
function isHostName(name: string): boolean {
  if (!name || name.length > 253 || net.isIP(name)) return false;
  return name.split('.').every((label) => label.length >= 1 && label.length <= 63);
}

function addressLiteral(domain: string): MxAddress | undefined {
  const match = /^\[(?:(IPv6:)?([^\]]+))\]$/i.exec(domain.trim());
  if (!match) return undefined;
  const family = net.isIP(match[2]);
  if (family === 4 && !match[1]) return { address: match[2], family: 4 };
  if (family === 6 && match[1]) return { address: match[2], family: 6 };
  return undefined;
}

/** One entry per exchange, at its lowest preference (Postfix does the same). */
function dedupe(records: MxData[]): Candidate[] {
  const byName = new Map<string, Candidate>();
  for (const record of records) {
    const exchange = normalize(record.exchange);
    const preference = record.preference ?? 0;
    const known = byName.get(exchange);
    if (!known || preference < known.preference)
      byName.set(exchange, { exchange, preference, implicit: false });
  }
  return [...byName.values()];
}
