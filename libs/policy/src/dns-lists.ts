/**
 * DNS block and allow lists (RFC 5782): is a client address listed in a zone, and why.
 */
import net from 'node:net';
import { createDnsResolve } from '@mta/dns';

/** The two DNS questions a list needs, Node-style: records, or a thrown error with a `code`. */
export interface DnsListResolver {
  resolve4(name: string): Promise<string[]>;
  resolveTxt(name: string): Promise<string[][]>;
}

export interface Listing {
  zone: string;
  /** The zone's TXT record for the address (RFC 5782 §2.1), or a generic sentence. */
  reason: string;
}

/**
 * The name to look up for `address` under `zone`: IPv4 octets reversed (RFC 5782 §2.1),
 * IPv6 as 32 reversed nibbles (§2.4). IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is looked up as IPv4.
 */
export function listQueryName(address: string, zone: string): string | null {
  const v4 = address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
  if (net.isIPv4(v4)) return `${v4.split('.').reverse().join('.')}.${zone}`;
  if (!net.isIPv6(address)) return null;
  return `${expandIpv6(address).split('').reverse().join('.')}.${zone}`;
}

/** The 32 hex digits of an IPv6 address, without colons. */
export function expandIpv6(address: string): string {
  const [head, tail = ''] = address.toLowerCase().split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  let left = groups(head);
  let right = address.includes('::') ? groups(tail) : [];
  // An embedded IPv4 tail (`::ffff:1.2.3.4`) is two groups.
  const last = (right.length > 0 ? right : left).at(-1) ?? '';
  if (net.isIPv4(last)) {
    const [a, b, c, d] = last.split('.').map(Number);
    const v4 = [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
    if (right.length > 0) right = [...right.slice(0, -1), ...v4];
    else left = [...left.slice(0, -1), ...v4];
  }
  const missing = 8 - left.length - right.length;
  return [...left, ...Array<string>(Math.max(0, missing)).fill('0'), ...right]
    .map((g) => g.padStart(4, '0'))
    .join('');
}

/**
 * A record values meaning "listed": 127.0.0.0/8 (RFC 5782 §2.1), except 127.255.255.0/24,
 * which some lists (Spamhaus) return for errors such as queries through a public resolver.
 */
function isListingAddress(a: string): boolean {
  return a.startsWith('127.') && !a.startsWith('127.255.255.');
}

/**
 * The first zone that lists `address`, in the order given, or null. A lookup that fails
 * (timeout, SERVFAIL) counts as not listed, as in Postfix: a broken list must not stop mail.
 */
export async function findListing(
  resolver: DnsListResolver,
  address: string,
  zones: readonly string[],
): Promise<Listing | null> {
  const results = await Promise.all(zones.map((zone) => lookupZone(resolver, address, zone)));
  return results.find((r) => r !== null) ?? null;
}

async function lookupZone(resolver: DnsListResolver, address: string, zone: string): Promise<Listing | null> {
  const name = listQueryName(address, zone);
  if (name === null) return null;
  let records: string[];
  try {
    records = await resolver.resolve4(name);
  } catch {
    return null;
  }
  if (!records.some(isListingAddress)) return null;
  let reason = `listed by ${zone}`;
  try {
    const txt = (await resolver.resolveTxt(name)).map((parts) => parts.join('')).find((t) => t.length > 0);
    if (txt) reason = txt;
  } catch {
    // No TXT record: the generic sentence.
  }
  return { zone, reason: printable(reason) };
}

/** Keep a zone's text to printable US-ASCII on one line of an SMTP reply. */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 400);
}

/**
 * The lists asked through `@mta/dns` (the configured servers, the TTL cache, so a client that
 * connects again is not looked up again within the list's TTL), or the system's resolvers
 * when `servers` is empty.
 */
export function dnsListResolver(
  servers: readonly { host: string; port: number }[],
  timeoutMs = 2000,
  tries = 2,
): DnsListResolver {
  const resolve = createDnsResolve({ servers, timeoutMs, tries });
  return {
    resolve4: async (name) => (await resolve(name, 'A')).filter((r): r is string => typeof r === 'string'),
    resolveTxt: async (name) => (await resolve(name, 'TXT')).filter((r): r is string[] => Array.isArray(r)),
  };
}
