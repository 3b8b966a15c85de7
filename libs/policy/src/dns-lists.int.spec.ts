import { aRecord, startFakeDns, txtRecord } from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsListResolver, findListing } from './dns-lists';

describe('DNS lists through a real resolver and a loopback DNS server', () => {
  let dns: Awaited<ReturnType<typeof startFakeDns>>;

  beforeAll(async () => {
    dns = await startFakeDns([
      aRecord('1.0.0.127.bl.test', '127.0.0.2'),
      txtRecord('1.0.0.127.bl.test', 'Listed for sending spam, see https://bl.test/127.0.0.1'),
      aRecord('1.0.0.127.notxt.test', '127.0.0.4'),
      // A public-resolver error answer of Spamhaus: not a listing.
      aRecord('1.0.0.127.error.test', '127.255.255.254'),
      aRecord(`${'1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0'}.bl.test`, '127.0.0.2'),
    ]);
  });
  afterAll(() => dns?.close());

  it('finds a listed address with the zone and its TXT reason', async () => {
    const resolver = dnsListResolver(dns.servers);
    expect(await findListing(resolver, '127.0.0.1', ['clean.test', 'bl.test'])).toEqual({
      zone: 'bl.test',
      reason: 'Listed for sending spam, see https://bl.test/127.0.0.1',
    });
    expect(await findListing(resolver, '::1', ['bl.test'])).toMatchObject({ zone: 'bl.test' });
  });

  it('says "listed by <zone>" without a TXT record, and ignores unlisted and error answers', async () => {
    const resolver = dnsListResolver(dns.servers);
    expect(await findListing(resolver, '127.0.0.1', ['notxt.test'])).toEqual({
      zone: 'notxt.test',
      reason: 'listed by notxt.test',
    });
    expect(await findListing(resolver, '127.0.0.2', ['bl.test'])).toBeNull();
    expect(await findListing(resolver, '127.0.0.1', ['error.test'])).toBeNull();
    expect(await findListing(resolver, '127.0.0.1', [])).toBeNull();
  });

  it('takes a list that does not answer as not listed, within the timeout', async () => {
    const silent = await startFakeDns([], { silent: true });
    try {
      const resolver = dnsListResolver(silent.servers, 200);
      expect(await findListing(resolver, '127.0.0.1', ['bl.test'])).toBeNull();
      expect(silent.count('A', '1.0.0.127.bl.test')).toBeGreaterThan(0);
    } finally {
      await silent.close();
    }
  });
});
