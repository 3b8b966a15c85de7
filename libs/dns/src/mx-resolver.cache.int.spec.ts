/**
 * MX resolution against the in-process fake DNS server: the resolver's own rules (equal
 * preference shuffle, caching by TTL, negative caching, loops, address literals, no leaks).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DnsCache, MxResolver, type MxResolverOptions } from './index';
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

/** Handles and timers alive once closing ones are gone (libuv frees them a loop turn later). */
async function activeResources() {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  return process.getActiveResourcesInfo().sort();
}

describe('MxResolver: order, cache, loops (fake DNS server)', () => {
  it('shuffles equal preferences per lookup with the injected random source: both orders happen', async () => {
    const s = await server();
    let draw = 0;
    const random = () => (draw++ % 2 === 0 ? 0 : 0.99);
    const resolver = resolverFor(s, { random });
    const orders = new Set<string>();
    for (let i = 0; i < 4; i++) orders.add(JSON.stringify(exchanges(await resolver.resolveMx('two.test'))));
    expect([...orders].sort()).toEqual([
      JSON.stringify(['a.two.test', 'b.two.test', 'c.two.test']),
      JSON.stringify(['b.two.test', 'a.two.test', 'c.two.test']),
    ]);
    expect(s.count('MX', 'two.test')).toBe(1); // the answer came from the cache; the order did not
  });

  it('serves answers from the cache within their TTL and asks again after it (injected clock)', async () => {
    const s = await server();
    let now = 0;
    const resolver = resolverFor(s, { cache: new DnsCache({ now: () => now }) });
    await resolver.resolveMx('short.test');
    await resolver.resolveMx('short.test');
    expect([s.count('MX', 'short.test'), s.count('A', 'short-host.test')]).toEqual([1, 1]);
    now += 2_000; // the A record (TTL 2) expires, the MX (TTL 5) does not
    await resolver.resolveMx('short.test');
    expect([s.count('MX', 'short.test'), s.count('A', 'short-host.test')]).toEqual([1, 2]);
    now += 1_000; // the second A answer (fetched at 2 s) lives until 4 s, the MX until 5 s
    await resolver.resolveMx('short.test');
    expect([s.count('MX', 'short.test'), s.count('A', 'short-host.test')]).toEqual([1, 2]);
    now += 2_000;
    await resolver.resolveMx('short.test');
    expect([s.count('MX', 'short.test'), s.count('A', 'short-host.test')]).toEqual([2, 3]);
  });

  it('caches with real TTLs too: one query within the TTL', async () => {
    const s = await server();
    const resolver = resolverFor(s);
    const [first, second] = await Promise.all([
      resolver.resolveMx('short.test'),
      resolver.resolveMx('short.test'),
    ]);
    expect(second).toEqual(first);
    await resolver.resolveMx('short.test');
    expect(s.count('MX', 'short.test')).toBe(1);
  });

  it('caches negative answers for the SOA minimum, and not without an SOA', async () => {
    let now = 0;
    const withSoa = await server({ records: ZONE, negativeTtl: 10 });
    const resolver = resolverFor(withSoa, { cache: new DnsCache({ now: () => now }) });
    await resolver.resolveMx('nothing.test');
    await resolver.resolveMx('nothing.test');
    expect(withSoa.count('MX', 'nothing.test')).toBe(1);
    now += 10_000;
    await resolver.resolveMx('nothing.test');
    expect(withSoa.count('MX', 'nothing.test')).toBe(2);

    const noSoa = await server({ records: ZONE, negativeTtl: null });
    const uncached = resolverFor(noSoa);
    await uncached.resolveMx('nothing.test');
    await uncached.resolveMx('nothing.test');
    expect(noSoa.count('MX', 'nothing.test')).toBe(2);
  });

  it('does not cache temporary failures', async () => {
    const s = await server();
    const resolver = resolverFor(s);
    await resolver.resolveMx('servfail.test');
    await resolver.resolveMx('servfail.test');
    expect(s.count('MX', 'servfail.test')).toBe(2);
  });

  it('detects a loop when the only exchange is ourselves, also through an implicit MX', async () => {
    const s = await server();
    expect(await resolverFor(s, { localHostnames: ['self.test'] }).resolveMx('self.test')).toMatchObject({
      ok: false,
      permanent: true,
      code: 554,
      enhanced: '5.4.6',
    });
    expect(await resolverFor(s, { localHostnames: ['c.two.test'] }).resolveMx('two.test')).toMatchObject({
      ok: true,
    });
    expect(
      exchanges(await resolverFor(s, { localHostnames: ['c.two.test'] }).resolveMx('two.test')),
    ).toHaveLength(2);
  });

  it('leaves no sockets or timers behind, after answers, timeouts and TCP', async () => {
    const silent = await server({ silent: true });
    const s = await server();
    const before = await activeResources();
    const resolver = new MxResolver({ servers: at(silent, s), timeoutMs: 100, tries: 1, cache: false });
    await Promise.all(
      ['two.test', 'big.test', 'servfail.test', 'nothing.test', 'null.test'].map((d) =>
        resolver.resolveMx(d),
      ),
    );
    await new MxResolver({ servers: at(silent), timeoutMs: 50, tries: 1 }).resolveMx('two.test');
    const after = await activeResources();
    // Vitest's own worker arms and clears a timer now and then: timers may only go down.
    const handles = (list: string[]) => list.filter((r) => r !== 'Timeout');
    const timers = (list: string[]) => list.length - handles(list).length;
    expect(handles(after)).toEqual(handles(before));
    expect(timers(after)).toBeLessThanOrEqual(timers(before));
  });

  it('takes address literals without DNS and refuses what is not a domain', async () => {
    const s = await server();
    const resolver = resolverFor(s);
    expect(await resolver.resolveMx('[192.0.2.7]')).toMatchObject({
      ok: true,
      hosts: [{ exchange: '[192.0.2.7]', addresses: [{ address: '192.0.2.7', family: 4 }], implicit: true }],
    });
    expect(await resolver.resolveMx('[IPv6:2001:db8::7]')).toMatchObject({
      ok: true,
      hosts: [{ addresses: [{ family: 6 }] }],
    });
    expect(await resolver.resolveMx('192.0.2.7')).toMatchObject({
      ok: false,
      permanent: true,
      enhanced: '5.1.2',
    });
    for (const bad of ['bad domain!', `${'a'.repeat(64)}.test`, 'a..test', '']) {
      expect(await resolver.resolveMx(bad)).toMatchObject({
        ok: false,
        permanent: true,
        code: 550,
        enhanced: '5.1.2',
      });
    }
    expect(s.queries).toEqual([]);
  });
});
