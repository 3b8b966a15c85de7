/**
 * The Node-shaped resolve function against the in-process fake DNS server: answer shapes for
 * every record type mailauth asks for, and the Node error codes its SPF, DKIM and DMARC code
 * branch on (no record vs. try again later).
 */
import dns from 'node:dns';
import { afterEach, describe, expect, it } from 'vitest';
import {
  aaaaRecord,
  aRecord,
  cnameRecord,
  mxRecord,
  ptrRecord,
  startFakeDnsServer,
  txtRecord,
  type FakeDnsOptions,
  type FakeDnsServer,
} from '@mta/testing';
import { createDnsResolve, DnsCache, type DnsResolveOptions } from './index';

const LONG_KEY = `v=DKIM1; k=rsa; p=${'A'.repeat(392)}`;
const ZONE = [
  txtRecord('example.test', 'v=spf1 ip4:192.0.2.0/24 -all'),
  txtRecord('example.test', ['hello ', 'world']),
  // a 2048-bit DKIM key does not fit one character-string (RFC 1035 §3.3.14: 255 octets)
  txtRecord('sel._domainkey.example.test', [LONG_KEY.slice(0, 255), LONG_KEY.slice(255)]),
  aRecord('example.test', '192.0.2.1'),
  aaaaRecord('example.test', '2001:db8::1'),
  mxRecord('example.test', 10, 'mx.example.test'),
  ptrRecord('1.2.0.192.in-addr.arpa', 'mail.example.test'),
  cnameRecord('alias.example.test', 'example.test'),
];

const servers: FakeDnsServer[] = [];
async function serve(options: FakeDnsOptions = {}) {
  const s = await startFakeDnsServer({ records: ZONE, ...options });
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
const resolveAt = (s: FakeDnsServer, options: DnsResolveOptions = {}) =>
  createDnsResolve({ servers: [{ host: s.host, port: s.port }], timeoutMs: 300, tries: 1, ...options });

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (err: NodeJS.ErrnoException) => err.code,
  );

describe('createDnsResolve: answers shaped as dns.promises.resolve', () => {
  it('gives TXT records as lists of character-strings, not joined', async () => {
    const resolve = resolveAt(await serve());
    expect(await resolve('example.test', 'TXT')).toEqual([
      ['v=spf1 ip4:192.0.2.0/24 -all'],
      ['hello ', 'world'],
    ]);
    const [key] = (await resolve('sel._domainkey.example.test', 'TXT')) as string[][];
    expect(key.length).toBe(2);
    expect(key.join('')).toBe(LONG_KEY);
  });

  it('gives A, AAAA, PTR as strings and MX as { exchange, priority }', async () => {
    const resolve = resolveAt(await serve());
    expect(await resolve('example.test', 'A')).toEqual(['192.0.2.1']);
    expect(await resolve('example.test', 'AAAA')).toEqual(['2001:db8::1']);
    expect(await resolve('1.2.0.192.in-addr.arpa', 'PTR')).toEqual(['mail.example.test']);
    expect(await resolve('example.test', 'MX')).toEqual([{ exchange: 'mx.example.test', priority: 10 }]);
  });

  it('follows a CNAME for TXT and answers a CNAME question with the target', async () => {
    const resolve = resolveAt(await serve());
    expect(await resolve('alias.example.test', 'TXT')).toHaveLength(2);
    expect(await resolve('Alias.Example.Test.', 'CNAME')).toEqual(['example.test']);
  });

  it('caches within the TTL: one question on the wire for two lookups', async () => {
    const s = await serve();
    const resolve = resolveAt(s, { cache: new DnsCache() });
    await resolve('example.test', 'TXT');
    await resolve('example.test', 'TXT');
    expect(s.count('TXT', 'example.test')).toBe(1);
  });
});

describe('createDnsResolve: Node error codes', () => {
  it('NXDOMAIN is ENOTFOUND, NODATA is ENODATA (no record: SPF none, RFC 7208 §4.3)', async () => {
    const resolve = resolveAt(await serve());
    expect(await codeOf(resolve('missing.test', 'TXT'))).toBe(dns.NOTFOUND);
    expect(await codeOf(resolve('mx.example.test', 'TXT'))).toBe(dns.NOTFOUND);
    expect(await codeOf(resolve('example.test', 'PTR'))).toBe(dns.NODATA);
  });

  it('silence is ETIMEOUT, SERVFAIL is ESERVFAIL, REFUSED is EREFUSED (temperror, RFC 7208 §2.6.6)', async () => {
    const resolve = resolveAt(
      await serve({ faults: { 'slow.test': 'drop', 'broken.test': 'servfail', 'closed.test': 'refused' } }),
    );
    expect(await codeOf(resolve('slow.test', 'TXT'))).toBe(dns.TIMEOUT);
    expect(await codeOf(resolve('broken.test', 'TXT'))).toBe(dns.SERVFAIL);
    expect(await codeOf(resolve('closed.test', 'A'))).toBe(dns.REFUSED);
  });

  it('a name that cannot exist is EBADNAME without a query; an unsupported type ENOTIMP', async () => {
    const s = await serve();
    const resolve = resolveAt(s);
    expect(await codeOf(resolve(`${'a'.repeat(64)}.test`, 'TXT'))).toBe(dns.BADNAME);
    expect(await codeOf(resolve('a..test', 'TXT'))).toBe(dns.BADNAME);
    expect(await codeOf(resolve('example.test', 'SRV'))).toBe(dns.NOTIMP);
    expect(s.queries).toEqual([]);
  });

  it('errors name the question as Node does', async () => {
    const resolve = resolveAt(await serve());
    await expect(resolve('missing.test', 'TXT')).rejects.toMatchObject({
      code: 'ENOTFOUND',
      hostname: 'missing.test',
      syscall: 'queryTxt',
    });
  });
});
