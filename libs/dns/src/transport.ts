/**
 * DNS over UDP with TCP fallback on truncation (RFC 1035 §4.2, RFC 7766 §5), spoken with
 * `dns-packet` so that every TTL and the response code are visible (Node's `dns.Resolver`
 * hides the TTLs of MX records and folds response codes into error strings).
 *
 * Behaviour modelled on the stub resolver of resolv.conf(5): each try walks the server list
 * in order; a server that times out, refuses (REFUSED), fails (SERVFAIL) or cannot be reached
 * is skipped for the next one; `tries` rounds over the list at most.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import * as packet from 'dns-packet';
import type { Answer, DecodedPacket, RecordType } from 'dns-packet';

/** A recursive resolver to ask. */
export interface DnsServer {
  host: string;
  port: number;
}

/** What a server answered, once we have an answer we believe. */
export interface DnsResponse {
  /** RFC 1035 §4.1.1 RCODE as text: NOERROR, NXDOMAIN, ... */
  rcode: string;
  answers: Answer[];
  authorities: Answer[];
  /** The AD bit (RFC 4035 §3.2.3): the server says it validated the answer with DNSSEC. */
  authenticated: boolean;
}

/** No server gave a usable answer: timeouts, SERVFAIL, REFUSED, network errors. */
export class DnsTransportError extends Error {
  constructor(
    message: string,
    /** the last problem seen: `timeout`, `SERVFAIL`, `REFUSED`, `network`, ... */
    readonly reason: string,
  ) {
    super(message);
    this.name = 'DnsTransportError';
  }
}

export interface TransportOptions {
  servers: readonly DnsServer[];
  /** per server and try, in milliseconds */
  timeoutMs: number;
  /** rounds over the server list */
  tries: number;
  /** Ask for the AD bit (RFC 6840 §5.7): set AD in the query. Trust it only from a validating resolver of yours. */
  dnssec?: boolean;
}

/** Response codes after which the next server is asked (as glibc does). */
const TRY_NEXT = new Set(['SERVFAIL', 'REFUSED', 'NOTIMP', 'FORMERR']);

export async function query(name: string, type: RecordType, options: TransportOptions): Promise<DnsResponse> {
  if (options.servers.length === 0) throw new DnsTransportError('no DNS servers configured', 'config');
  let last = 'timeout';
  for (let attempt = 0; attempt < Math.max(1, options.tries); attempt++) {
    for (const server of options.servers) {
      let reply: DecodedPacket;
      try {
        reply = await exchange(server, name, type, options.timeoutMs, options.dnssec === true);
      } catch (err) {
        last = err instanceof DnsTransportError ? err.reason : 'network';
        continue;
      }
      const rcode = (reply as DecodedPacket & { rcode?: string }).rcode ?? 'NOERROR';
      if (TRY_NEXT.has(rcode)) {
        last = rcode;
        continue;
      }
      return {
        rcode,
        answers: reply.answers ?? [],
        authorities: reply.authorities ?? [],
        authenticated: reply.flag_ad === true,
      };
    }
  }
  // The message may reach a DSN: it names the question, not our resolvers' addresses.
  const servers = options.servers.length === 1 ? '1 server' : `${options.servers.length} servers`;
  throw new DnsTransportError(`DNS query ${type} ${name} failed (${last}; ${servers} tried)`, last);
}

/** One question to one server: UDP first, TCP if the UDP answer is truncated. */
async function exchange(server: DnsServer, name: string, type: RecordType, timeoutMs: number, ad: boolean) {
  const id = randomInt(0, 0x10000);
  const request = packet.encode({
    type: 'query',
    id,
    flags: packet.RECURSION_DESIRED | (ad ? packet.AUTHENTIC_DATA : 0),
    questions: [{ type, name, class: 'IN' }],
  });
  const matches = (reply: DecodedPacket) =>
    reply.id === id &&
    reply.type === 'response' &&
    reply.questions?.length === 1 &&
    reply.questions[0].type === type &&
    reply.questions[0].name.toLowerCase() === name.toLowerCase();
  const udp = await overUdp(server, request, timeoutMs, matches);
  if (!udp.flag_tc) return udp;
  return overTcp(server, request, timeoutMs, matches);
}

function overUdp(
  server: DnsServer,
  request: Buffer,
  timeoutMs: number,
  matches: (reply: DecodedPacket) => boolean,
): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (outcome: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // Settle only once the socket is closed, so that callers never see a leaked handle.
      socket.close(outcome);
    };
    const timer = setTimeout(
      () => finish(() => reject(new DnsTransportError(`timeout after ${timeoutMs} ms`, 'timeout'))),
      timeoutMs,
    );
    socket.on('error', (err) => finish(() => reject(new DnsTransportError(err.message, 'network'))));
    socket.on('message', (data, from) => {
      // Ignore anything that is not the answer to our question from the server we asked:
      // spoofed or stray datagrams must not end the wait (RFC 5452 §4).
      if (from.port !== server.port || !sameHost(from.address, server.host)) return;
      let reply: DecodedPacket;
      try {
        reply = packet.decode(data);
      } catch {
        return;
      }
      if (matches(reply)) finish(() => resolve(reply));
    });
    socket.send(request, server.port, server.host, (err) => {
      if (err) finish(() => reject(new DnsTransportError(err.message, 'network')));
    });
  });
}

function overTcp(
  server: DnsServer,
  request: Buffer,
  timeoutMs: number,
  matches: (reply: DecodedPacket) => boolean,
): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port });
    let done = false;
    let buffered = Buffer.alloc(0);
    const finish = (outcome: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.once('close', outcome);
      socket.destroy();
    };
    const timer = setTimeout(
      () => finish(() => reject(new DnsTransportError(`TCP timeout after ${timeoutMs} ms`, 'timeout'))),
      timeoutMs,
    );
    socket.on('error', (err) => finish(() => reject(new DnsTransportError(err.message, 'network'))));
    socket.on('connect', () => {
      // RFC 1035 §4.2.2: a two-octet length prefix on TCP.
      const length = Buffer.alloc(2);
      length.writeUInt16BE(request.length);
      socket.write(Buffer.concat([length, request]));
    });
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 2) return;
      const size = buffered.readUInt16BE(0);
      if (buffered.length < 2 + size) return;
      let reply: DecodedPacket;
      try {
        reply = packet.decode(buffered.subarray(2, 2 + size));
      } catch {
        finish(() => reject(new DnsTransportError('malformed TCP answer', 'malformed')));
        return;
      }
      if (matches(reply)) finish(() => resolve(reply));
      else finish(() => reject(new DnsTransportError('TCP answer does not match the question', 'malformed')));
    });
    socket.on('end', () =>
      finish(() => reject(new DnsTransportError('TCP connection closed early', 'network'))),
    );
  });
}

function sameHost(a: string, b: string): boolean {
  const strip = (h: string) => h.replace(/^::ffff:/i, '').toLowerCase();
  return strip(a) === strip(b);
}
