/**
 * The client's host name, forward-confirmed (FCrDNS, "iprev" in RFC 8601 §3): the PTR names of
 * its address (RFC 1035 §3.5 in-addr.arpa, RFC 3596 §2.5 ip6.arpa), and the first of them whose
 * own A/AAAA records contain that address. Anyone can put any name in a PTR record; only a name
 * that points back is the client's. Postfix records the same as the client name in `Received:`
 * (`from helo (name [ip])`), and `unknown` when it does not confirm.
 *
 * The lookup starts when the client connects and has a short deadline: it runs while the client
 * says EHLO, MAIL and RCPT, and a slow or silent DNS costs the end of data at most what is left
 * of the deadline. A failure or timeout just means "no name": the mail is not refused for it.
 */
import net from 'node:net';

/** `(name, rrtype)` as Node's `dns.promises.resolve` (e.g. @mta/policy's createInboundResolver). */
export type NameResolve = (name: string, rrtype: string) => Promise<unknown>;

export interface ClientNamesOptions {
  readonly resolve: NameResolve;
  /** From the start of the lookup; then the session goes on without a name. Default 2000 ms. */
  readonly deadlineMs?: number;
  /** PTR names checked at most (a PTR set can be long; Postfix stops at a few). Default 5. */
  readonly maxNames?: number;
}

interface Lookup {
  readonly done: Promise<string | null>;
  /** Set when `done` settles. */
  readonly settled: { name: string | null };
}

export class ClientNames {
  private readonly lookups = new Map<string, Lookup>();

  constructor(private readonly options: ClientNamesOptions) {}

  /** Starts the lookup of a session's client (once per session). */
  start(session: { readonly id: string; readonly remoteAddress: string }): void {
    if (this.lookups.has(session.id)) return;
    const settled = { name: null as string | null };
    const lookup = forwardConfirmedName(
      this.options.resolve,
      session.remoteAddress,
      this.options.maxNames ?? 5,
    );
    const done = withDeadline(lookup, this.options.deadlineMs ?? 2000).then((name) => (settled.name = name));
    this.lookups.set(session.id, { done, settled });
  }

  /** The confirmed name, waiting at most until the deadline; null: none (or not confirmed). */
  async name(session: { readonly id: string; readonly remoteAddress: string }): Promise<string | null> {
    this.start(session);
    return (await this.lookups.get(session.id)?.done) ?? null;
  }

  /** The name if the lookup is over (after `name()`), else null. */
  known(sessionId: string): string | null {
    return this.lookups.get(sessionId)?.settled.name ?? null;
  }

  forget(sessionId: string): void {
    this.lookups.delete(sessionId);
  }
}

/** `promise`'s value, or null if it fails or takes longer than `ms`. */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(resolve, ms, null);
    timer.unref();
  });
  return Promise.race([promise.catch(() => null), late]).finally(() => clearTimeout(timer));
}

/** FCrDNS of `ip`: the first PTR name whose addresses include `ip`, lower case, no final dot. */
export async function forwardConfirmedName(
  resolve: NameResolve,
  ip: string,
  maxNames = 5,
): Promise<string | null> {
  const address = plainAddress(ip);
  const family = net.isIP(address);
  if (family === 0) return null;
  const ptr = await strings(resolve(reverseName(address), 'PTR'));
  for (const name of ptr.slice(0, maxNames)) {
    const host = name.replace(/\.$/, '').toLowerCase();
    if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(host)) continue; // not a host name: never in a header
    const addresses = await strings(resolve(host, family === 4 ? 'A' : 'AAAA'));
    if (addresses.some((a) => sameAddress(a, address))) return host;
  }
  return null;
}

/** The DNS name of an address's PTR record (RFC 1035 §3.5, RFC 3596 §2.5). */
export function reverseName(ip: string): string {
  if (net.isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const nibbles = expandIpv6(ip).replaceAll(':', '').split('').reverse();
  return `${nibbles.join('.')}.ip6.arpa`;
}

/** An IPv4 client on a dual-stack socket arrives as `::ffff:a.b.c.d`. */
function plainAddress(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? (mapped[1] as string) : ip;
}

function expandIpv6(ip: string): string {
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.map((g) => g.padStart(4, '0').toLowerCase()).join(':');
}

function sameAddress(a: string, b: string): boolean {
  return net.isIPv6(a) && net.isIPv6(b) ? expandIpv6(a) === expandIpv6(b) : a === b;
}

/** The answer as strings; "no such record" (or any failure) as none. */
async function strings(answer: Promise<unknown>): Promise<string[]> {
  try {
    const list = await answer;
    return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}
