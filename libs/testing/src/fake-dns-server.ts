/**
 * An in-process DNS server on 127.0.0.1 for tests: answers like a recursive resolver from a
 * fixed list of records (CNAME chains followed, NXDOMAIN and NODATA with an SOA), and can
 * misbehave per name: SERVFAIL, REFUSED, no answer at all, or a truncated UDP answer that
 * must be asked again over TCP. Counts every question it sees. UDP and TCP on one port.
 * Serves any type dns-packet encodes (A, AAAA, MX, TXT, PTR, CNAME, ...; TXT as one or more
 * character-strings, RFC 1035 §3.3.14). Faults by owner name (`faults`), or by name and type
 * (`faultFor`, e.g. a TXT question that times out while the A question is answered, as the
 * RFC 7208 test suite's zones need). Moved here from libs/dns (its specs use it too);
 * `startFakeDns(records)` is the short form.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import * as packet from 'dns-packet';
import type { Answer, DecodedPacket, OptAnswer } from 'dns-packet';

export type Fault = 'servfail' | 'refused' | 'drop' | 'truncate';
type Rr = Exclude<Answer, OptAnswer>;

export interface FakeDnsOptions {
  records?: Rr[];
  /** misbehaviour by owner name (any type) */
  faults?: Record<string, Fault>;
  /** misbehaviour by question (name in lower case without the final dot, type such as `TXT`);
   *  asked when `faults` has nothing for the name */
  faultFor?: (name: string, type: string) => Fault | undefined;
  /** answer nothing at all, ever */
  silent?: boolean;
  /** SOA MINIMUM (and TTL) of negative answers; `null`: no SOA in negative answers */
  negativeTtl?: number | null;
}

export interface FakeDnsServer {
  host: string;
  port: number;
  /** `TYPE name` of every question, in order, with `tcp:` in front of those over TCP */
  readonly queries: string[];
  /** how many times `TYPE name` was asked (over either transport) */
  count(type: string, name: string): number;
  close(): Promise<void>;
}

export async function startFakeDnsServer(options: FakeDnsOptions = {}): Promise<FakeDnsServer> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await bind(options);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 10) throw err;
    }
  }
}

async function bind(options: FakeDnsOptions): Promise<FakeDnsServer> {
  const queries: string[] = [];
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(0, '127.0.0.1', () => resolve());
  });
  const port = udp.address().port;
  const connections = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const size = buffered.readUInt16BE(0);
        const reply = respond(packet.decode(buffered.subarray(2, 2 + size)), options, queries, 'tcp');
        buffered = buffered.subarray(2 + size);
        if (!reply) continue;
        const length = Buffer.alloc(2);
        length.writeUInt16BE(reply.length);
        socket.write(Buffer.concat([length, reply]));
      }
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, '127.0.0.1', () => resolve());
    });
  } catch (err) {
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    throw err;
  }
  udp.on('message', (data, from) => {
    const reply = respond(packet.decode(data), options, queries, 'udp');
    if (reply) udp.send(reply, from.port, from.address);
  });
  return {
    host: '127.0.0.1',
    port,
    queries,
    count: (type, name) => queries.filter((q) => q.replace(/^tcp:/, '') === `${type} ${name}`).length,
    close: async () => {
      for (const socket of connections) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}

const same = (a: string, b: string) =>
  a.toLowerCase().replace(/\.$/, '') === b.toLowerCase().replace(/\.$/, '');

function respond(
  query: DecodedPacket,
  options: FakeDnsOptions,
  log: string[],
  via: 'udp' | 'tcp',
): Buffer | undefined {
  const question = query.questions?.[0];
  if (!question) return undefined;
  log.push(`${via === 'tcp' ? 'tcp:' : ''}${question.type} ${question.name}`);
  const name = question.name.toLowerCase().replace(/\.$/, '');
  const fault = options.faults?.[name] ?? options.faultFor?.(name, question.type);
  if (options.silent || fault === 'drop') return undefined;
  const base = { type: 'response' as const, id: query.id, questions: [question] };
  const flags = packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE;
  if (fault === 'servfail' || fault === 'refused') {
    return packet.encode({ ...base, flags: flags | (fault === 'servfail' ? 2 : 5) });
  }
  if (fault === 'truncate' && via === 'udp') {
    return packet.encode({ ...base, flags: flags | packet.TRUNCATED_RESPONSE });
  }

  // Follow CNAMEs as a recursive resolver does (RFC 1034 §4.3.2 step 3).
  const records = options.records ?? [];
  const answers: Rr[] = [];
  let current = question.name;
  for (let hop = 0; hop < 10; hop++) {
    const found = records.filter((r) => same(r.name, current) && r.type === question.type);
    if (found.length > 0) {
      answers.push(...found);
      return packet.encode({ ...base, flags, answers });
    }
    const cname = records.find((r) => same(r.name, current) && r.type === 'CNAME');
    if (!cname) break;
    answers.push(cname);
    current = cname.data as string;
  }
  const exists = records.some((r) => same(r.name, current));
  const negativeTtl = options.negativeTtl === undefined ? 60 : options.negativeTtl;
  const authorities: Rr[] =
    negativeTtl === null
      ? []
      : [
          {
            type: 'SOA',
            name: 'test',
            ttl: negativeTtl,
            data: {
              mname: 'ns.test',
              rname: 'hostmaster.test',
              serial: 1,
              refresh: 3600,
              retry: 600,
              expire: 86400,
              minimum: negativeTtl,
            },
          },
        ];
  return packet.encode({ ...base, flags: flags | (exists ? 0 : 3), answers, authorities });
}

/** A resource record the fake server can serve (dns-packet's shape, without OPT). */
export type FakeRecord = Rr;

export const mxRecord = (name: string, preference: number, exchange: string, ttl = 300): Rr => ({
  type: 'MX',
  name,
  ttl,
  data: { preference, exchange },
});
export const aRecord = (name: string, address: string, ttl = 300): Rr => ({
  type: 'A',
  name,
  ttl,
  data: address,
});
export const aaaaRecord = (name: string, address: string, ttl = 300): Rr => ({
  type: 'AAAA',
  name,
  ttl,
  data: address,
});

/** A TXT record of one or more character-strings (each at most 255 bytes, RFC 1035 §3.3). */
export const txtRecord = (name: string, strings: string | Array<string | Buffer>, ttl = 300): Rr => ({
  type: 'TXT',
  name,
  ttl,
  data: typeof strings === 'string' ? [strings] : strings,
});
export const ptrRecord = (name: string, target: string, ttl = 300): Rr => ({
  type: 'PTR',
  name,
  ttl,
  data: target,
});
export const cnameRecord = (name: string, target: string, ttl = 300): Rr => ({
  type: 'CNAME',
  name,
  ttl,
  data: target,
});

/** A fake DNS server serving `zone` on 127.0.0.1; `servers` is ready for `MxResolver`. */
export async function startFakeDns(
  zone: Rr[],
  options: Omit<FakeDnsOptions, 'records'> = {},
): Promise<FakeDnsServer & { servers: { host: string; port: number }[] }> {
  const server = await startFakeDnsServer({ ...options, records: zone });
  return Object.assign(server, { servers: [{ host: server.host, port: server.port }] });
}
