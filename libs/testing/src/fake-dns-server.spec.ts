import { Resolver } from 'node:dns/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  aRecord,
  cnameRecord,
  ptrRecord,
  startFakeDnsServer,
  txtRecord,
  type FakeDnsOptions,
  type FakeDnsServer,
} from './fake-dns-server';

// The fake server asked through Node's own stub resolver (c-ares), an independent client.
describe('fake DNS server: TXT, PTR and faults by question', () => {
  let server: FakeDnsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function resolverFor(options: FakeDnsOptions): Promise<Resolver> {
    server = await startFakeDnsServer(options);
    const resolver = new Resolver({ timeout: 300, tries: 1 });
    resolver.setServers([`${server.host}:${server.port}`]);
    return resolver;
  }

  it('serves TXT records as their character-strings, several records apart', async () => {
    const resolver = await resolverFor({
      records: [
        txtRecord('multi.test', ['v=spf1 ', 'ip4:192.0.2.1 -all']),
        txtRecord('multi.test', 'second record'),
        txtRecord('utf8.test', 'v=spf1 ä -all'),
      ],
    });
    expect(await resolver.resolveTxt('multi.test')).toEqual([
      ['v=spf1 ', 'ip4:192.0.2.1 -all'],
      ['second record'],
    ]);
    // UTF-8 on the wire; Node hands each byte back as one latin1 character
    const [[utf8]] = await resolver.resolveTxt('utf8.test');
    expect(Buffer.from(utf8, 'latin1').toString('utf8')).toBe('v=spf1 ä -all');
  });

  it('serves PTR records and follows a CNAME to a TXT record', async () => {
    const resolver = await resolverFor({
      records: [
        ptrRecord('1.2.0.192.in-addr.arpa', 'mail.example.test'),
        cnameRecord('alias.test', 'target.test'),
        txtRecord('target.test', 'hello'),
      ],
    });
    expect(await resolver.reverse('192.0.2.1')).toEqual(['mail.example.test']);
    expect(await resolver.resolveTxt('alias.test')).toEqual([['hello']]);
  });

  it('tells a name without records (NXDOMAIN) from a name without that type (NODATA)', async () => {
    const resolver = await resolverFor({ records: [aRecord('host.test', '192.0.2.7')] });
    await expect(resolver.resolveTxt('nothing.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.resolveTxt('host.test')).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('applies a fault to one type of a name and answers the others', async () => {
    const resolver = await resolverFor({
      records: [aRecord('slow.test', '192.0.2.8'), txtRecord('slow.test', 'never seen')],
      faultFor: (name, type) => (name === 'slow.test' && type === 'TXT' ? 'drop' : undefined),
    });
    expect(await resolver.resolve4('slow.test')).toEqual(['192.0.2.8']);
    await expect(resolver.resolveTxt('slow.test')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    await expect(resolver.resolveTxt('SLOW.test.')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    expect(server?.count('TXT', 'slow.test')).toBeGreaterThanOrEqual(1);
  });

  it('answers SERVFAIL for a name the faults map lists, whatever faultFor says', async () => {
    const resolver = await resolverFor({
      records: [txtRecord('broken.test', 'x')],
      faults: { 'broken.test': 'servfail' },
      faultFor: () => undefined,
    });
    await expect(resolver.resolveTxt('broken.test')).rejects.toMatchObject({ code: 'ESERVFAIL' });
  });
});
