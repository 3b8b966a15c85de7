/**
 * MX resolution against the in-process fake DNS server: what dnsmasq cannot easily do (null
 * MX, SERVFAIL, REFUSED, silence, truncation) and server fail-over.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MxResolver, type MxResolverOptions } from './index';
import { startFakeDnsServer, type FakeDnsOptions, type FakeDnsServer } from '@mta/testing';
import { at, exchanges, FAULTS, ZONE } from './testing/fake-zone';

const servers: FakeDnsServer[] = [];
async function server(options: FakeDnsOptions = { records: ZONE, faults: FAULTS }) {
  const s = await startFakeDnsServer(options);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const resolverFor = (s: FakeDnsServer, options: MxResolverOptions = {}) =>
  new MxResolver({ servers: at(s), timeoutMs: 1000, tries: 1, ...options });

describe('MxResolver: failures and fail-over (fake DNS server)', () => {
  it('refuses a null MX with 556 5.1.10 (RFC 7505)', async () => {
    const s = await server();
    expect(await resolverFor(s).resolveMx('null.test')).toEqual({
      ok: false,
      permanent: true,
      code: 556,
      enhanced: '5.1.10',
      text: 'domain null.test does not accept mail (null MX)',
    });
    expect(s.count('A', 'null.test')).toBe(0); // no implicit MX behind a null MX
  });

  it('ignores a "." exchange beside real ones', async () => {
    const s = await server();
    expect(exchanges(await resolverFor(s).resolveMx('null-beside.test'))).toEqual(['a.two.test']);
  });

  it('fails permanently for NXDOMAIN and for a name with neither MX nor addresses', async () => {
    const s = await server();
    expect(await resolverFor(s).resolveMx('nothing.test')).toMatchObject({
      ok: false,
      permanent: true,
      code: 550,
      enhanced: '5.1.2',
    });
    expect(await resolverFor(s).resolveMx('txt-only.test')).toMatchObject({
      ok: false,
      permanent: true,
      code: 554,
      enhanced: '5.4.4',
    });
  });

  it.each(['servfail.test', 'refused.test'])('defers %s with 451 4.4.3', async (domain) => {
    const s = await server();
    const result = await resolverFor(s).resolveMx(domain);
    expect(result).toMatchObject({ ok: false, permanent: false, code: 451, enhanced: '4.4.3' });
    expect(!result.ok && result.text).toMatch(/^DNS lookup failure for .*(SERVFAIL|REFUSED)/);
  });

  it('defers when the server never answers, after the configured timeout and tries', async () => {
    const silent = await server({ silent: true });
    const started = Date.now();
    const result = await new MxResolver({ servers: at(silent), timeoutMs: 150, tries: 2 }).resolveMx(
      'two.test',
    );
    expect(result).toMatchObject({ ok: false, permanent: false, code: 451, enhanced: '4.4.3' });
    expect(!result.ok && result.text).toMatch(/timeout/);
    expect(silent.count('MX', 'two.test')).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('asks the second server when the first times out', async () => {
    const silent = await server({ silent: true });
    const good = await server();
    const result = await new MxResolver({ servers: at(silent, good), timeoutMs: 150, tries: 1 }).resolveMx(
      'short.test',
    );
    expect(exchanges(result)).toEqual(['short-host.test']);
    expect(silent.count('MX', 'short.test')).toBe(1);
    expect(good.count('MX', 'short.test')).toBe(1);
  });

  it('asks the second server when the first answers SERVFAIL', async () => {
    const failing = await server({
      records: [],
      faults: { 'short.test': 'servfail', 'short-host.test': 'servfail' },
    });
    const good = await server();
    expect(
      exchanges(await new MxResolver({ servers: at(failing, good), tries: 1 }).resolveMx('short.test')),
    ).toEqual(['short-host.test']);
  });

  it('skips an exchange whose lookup fails temporarily, and defers if that was the only one', async () => {
    const s = await server();
    expect(exchanges(await resolverFor(s).resolveMx('broken-some.test'))).toEqual(['b.two.test']);
    expect(await resolverFor(s).resolveMx('broken.test')).toMatchObject({
      ok: false,
      permanent: false,
      code: 451,
    });
  });

  it('does not use an exchange written as an IP address', async () => {
    const s = await server();
    expect(await resolverFor(s).resolveMx('ip.test')).toMatchObject({
      ok: false,
      permanent: true,
      enhanced: '5.4.4',
    });
    expect(s.queries.filter((q) => q.includes('192.0.2.77'))).toEqual([]);
  });

  it('asks again over TCP when the UDP answer is truncated', async () => {
    const s = await server();
    const result = await resolverFor(s).resolveMx('big.test');
    expect(result.ok && result.hosts[0].addresses).toHaveLength(40);
    expect(s.queries).toContain('A big-host.test');
    expect(s.queries).toContain('tcp:A big-host.test');
  });

  it('follows a CNAME on the domain itself', async () => {
    const s = await server();
    expect(exchanges(await resolverFor(s, { random: () => 0 }).resolveMx('www.alias.test'))).toEqual([
      'b.two.test',
      'a.two.test',
      'c.two.test',
    ]);
  });
});
