import type { MxResolver } from '@mta/dns';
import { describe, expect, it } from 'vitest';
import { message, request } from '../test/fixtures';
import { DEFAULT_SHAPING, ShapingTable } from './shaping';
import { mxSiteOf, siteHosts, siteKey } from './site';

describe('siteKey', () => {
  // [MX host names as DNS gave them, the site's key]
  const cases: [string[], string][] = [
    [['mx.example.net'], 'mx:mx.example.net'],
    [['MX2.Example.NET.', 'mx1.example.net'], 'mx:mx1.example.net,mx2.example.net'],
    [['mx1.example.net', 'mx1.example.net.', 'MX1.example.net'], 'mx:mx1.example.net'],
  ];
  it.each(cases)('%j is %s, whatever the order, case or trailing dot', (hosts, key) => {
    expect(siteKey(hosts)).toBe(key);
    expect(siteHosts(key)).toEqual(key.slice(3).split(','));
  });

  it('a domain is no site', () => expect(siteHosts('example.org')).toEqual([]));
});

describe('mxSiteOf', () => {
  const resolver = (
    answer: Awaited<ReturnType<MxResolver['resolveMx']>> | Error,
  ): Pick<MxResolver, 'resolveMx'> => ({
    resolveMx: async () => {
      if (answer instanceof Error) throw answer;
      return answer;
    },
  });
  const to = (domain: string) => request([`a@${domain}`], message('site'), { destination: domain });
  const host = (exchange: string) => ({ exchange, preference: 10, addresses: [], implicit: false });

  it('keys a domain by its MX hosts', async () => {
    const site = mxSiteOf(
      resolver({ ok: true, domain: 'a.example', hosts: [host('mx2.p.example'), host('mx1.p.example')] }),
    );
    expect(await site(to('A.example'))).toBe('mx:mx1.p.example,mx2.p.example');
  });

  it('keys by the domain when the lookup fails or throws: the agent reports it', async () => {
    const servfail = { ok: false as const, permanent: false, code: 451, enhanced: '4.4.3', text: 'SERVFAIL' };
    const failed = await mxSiteOf(resolver(servfail))(to('b.example'));
    expect(failed).toBe('b.example');
    expect(await mxSiteOf(resolver(new Error('socket closed')))(to('c.example'))).toBe('c.example');
  });
});

describe('ShapingTable under mx keying', () => {
  const table = new ShapingTable({ ...DEFAULT_SHAPING, maxConnections: 20 });
  table.set([
    { domain: 'mx2.p.example', maxConnections: 5, maxMessagesPerConnection: null, maxMessageRate: null },
    { domain: 'mx3.p.example', maxConnections: 7, maxMessagesPerConnection: null, maxMessageRate: null },
  ]);

  it('a site takes the override of the first of its hosts, by name, that has one', () => {
    expect(table.shapingOf('mx:mx1.p.example,mx2.p.example,mx3.p.example').maxConnections).toBe(5);
    expect(table.shapingOf('mx:mx3.p.example').maxConnections).toBe(7);
  });

  it('a site none of whose hosts has one takes the defaults', () => {
    expect(table.shapingOf('mx:mx9.p.example').maxConnections).toBe(20);
  });
});
