/**
 * MX resolution against dnsmasq, a real DNS server on a loopback high port: the ordinary
 * cases (preference order, A and AAAA, CNAMEs, implicit MX, NXDOMAIN, IDN).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort, requirePeer } from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MxResolver, type MxResolverOptions, type MxSuccess } from './index';
import { DNSMASQ, startDnsmasq, type Dnsmasq } from './testing/dnsmasq';

const RECORDS = [
  // example.test: two exchanges and a backup, one with IPv6
  '--mx-host=example.test,mx1.example.test,10',
  '--mx-host=example.test,mx2.example.test,20',
  '--mx-host=example.test,backup.example.test,30',
  '--host-record=mx1.example.test,192.0.2.1,2001:db8::1',
  '--host-record=mx2.example.test,192.0.2.2',
  '--host-record=backup.example.test,2001:db8::30',
  // cname-mx.test: the exchange is a CNAME (RFC 5321 §5.1 says it must not be; we follow it)
  '--mx-host=cname-mx.test,alias.example.test,5',
  '--cname=alias.example.test,mx2.example.test',
  // alias-domain.test: the domain itself is a CNAME to example.test
  '--cname=alias-domain.test,example.test',
  // implicit.test: no MX, only addresses → implicit MX
  '--host-record=implicit.test,192.0.2.9,2001:db8::9',
  // ghost-mx.test: the only exchange has no address at all; partial.test: one of two has none
  '--mx-host=ghost-mx.test,nowhere.example.test,10',
  '--mx-host=partial.test,nowhere.example.test,10',
  '--mx-host=partial.test,mx2.example.test,20',
  // xn--bcher-kva.test (bücher.test)
  '--mx-host=xn--bcher-kva.test,mx1.example.test,10',
  '--local-ttl=60',
];

describe.skipIf(!requirePeer('dnsmasq', existsSync(DNSMASQ)))('MxResolver with dnsmasq', () => {
  let dnsmasq: Dnsmasq;
  const resolver = (options: MxResolverOptions = {}) =>
    new MxResolver({
      servers: [{ host: dnsmasq.host, port: dnsmasq.port }],
      timeoutMs: 2000,
      tries: 1,
      ...options,
    });
  const ok = async (domain: string, options?: MxResolverOptions) => {
    const result = await resolver(options).resolveMx(domain);
    if (!result.ok) throw new Error(`expected hosts for ${domain}, got ${JSON.stringify(result)}`);
    return result as MxSuccess;
  };

  beforeAll(async () => {
    dnsmasq = await startDnsmasq(RECORDS, () => freePort());
  });
  afterAll(() => dnsmasq?.close());

  it('is a real dnsmasq', () => {
    expect(execFileSync(DNSMASQ, ['--version']).toString()).toMatch(/^Dnsmasq version/);
  });

  it('orders exchanges by preference with their A and AAAA addresses', async () => {
    const result = await ok('example.test');
    expect(result.domain).toBe('example.test');
    expect(result.hosts).toEqual([
      {
        exchange: 'mx1.example.test',
        preference: 10,
        implicit: false,
        addresses: [
          { address: '2001:db8::1', family: 6 },
          { address: '192.0.2.1', family: 4 },
        ],
      },
      {
        exchange: 'mx2.example.test',
        preference: 20,
        implicit: false,
        addresses: [{ address: '192.0.2.2', family: 4 }],
      },
      {
        exchange: 'backup.example.test',
        preference: 30,
        implicit: false,
        addresses: [{ address: '2001:db8::30', family: 6 }],
      },
    ]);
  });

  it('orders addresses as the caller chooses', async () => {
    const v4first = await ok('example.test', { addressPreference: 'ipv4' });
    expect(v4first.hosts[0].addresses.map((a) => a.family)).toEqual([4, 6]);
    const v4only = await ok('example.test', { addressPreference: 'ipv4-only' });
    expect(v4only.hosts.map((h) => h.exchange)).toEqual(['mx1.example.test', 'mx2.example.test']);
    const v6only = await ok('example.test', { addressPreference: 'ipv6-only' });
    expect(v6only.hosts.map((h) => h.exchange)).toEqual(['mx1.example.test', 'backup.example.test']);
  });

  it('follows an exchange that is a CNAME, keeping the name the MX record gives', async () => {
    const result = await ok('cname-mx.test');
    expect(result.hosts).toEqual([
      {
        exchange: 'alias.example.test',
        preference: 5,
        implicit: false,
        addresses: [{ address: '192.0.2.2', family: 4 }],
      },
    ]);
  });

  it('follows a CNAME on the domain itself', async () => {
    const result = await ok('alias-domain.test');
    expect(result.hosts.map((h) => h.exchange)).toEqual([
      'mx1.example.test',
      'mx2.example.test',
      'backup.example.test',
    ]);
  });

  it('uses the domain itself at preference 0 when it has no MX but has addresses (implicit MX)', async () => {
    const result = await ok('implicit.test');
    expect(result.hosts).toEqual([
      {
        exchange: 'implicit.test',
        preference: 0,
        implicit: true,
        addresses: [
          { address: '2001:db8::9', family: 6 },
          { address: '192.0.2.9', family: 4 },
        ],
      },
    ]);
  });

  it('fails permanently with 550 5.1.2 for a domain that does not exist', async () => {
    expect(await resolver().resolveMx('no-such-domain.test')).toEqual({
      ok: false,
      permanent: true,
      code: 550,
      enhanced: '5.1.2',
      text: 'domain no-such-domain.test does not exist (NXDOMAIN)',
    });
  });

  it('fails permanently with 554 5.4.4 when no exchange has an address', async () => {
    const noAddress = await resolver().resolveMx('ghost-mx.test');
    expect(noAddress).toMatchObject({ ok: false, permanent: true, code: 554, enhanced: '5.4.4' });
  });

  it('skips exchanges without addresses', async () => {
    const result = await ok('partial.test');
    expect(result.hosts.map((h) => h.exchange)).toEqual(['mx2.example.test']);
  });

  it('looks up internationalised domains by their A-labels', async () => {
    const result = await ok('bücher.test');
    expect(result.domain).toBe('xn--bcher-kva.test');
    expect(result.hosts[0].exchange).toBe('mx1.example.test');
  });

  it('detects that the best exchange is ourselves and uses only better ones', async () => {
    const asMx2 = await ok('example.test', { localHostnames: ['MX2.example.test'] });
    expect(asMx2.hosts.map((h) => h.exchange)).toEqual(['mx1.example.test']);
    const asMx1 = await resolver({ localHostnames: ['mx1.example.test'] }).resolveMx('example.test');
    expect(asMx1).toEqual({
      ok: false,
      permanent: true,
      code: 554,
      enhanced: '5.4.6',
      text: 'mail for example.test loops back to myself',
    });
  });
});
