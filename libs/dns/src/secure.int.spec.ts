/**
 * AD-bit lookups (DANE's MX and TLSA questions) against a validating resolver on loopback:
 * Debian's unbound with a zone signed for the test (ldnsutils) and an unsigned one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveValidatingResolver, startValidatingResolver, type ValidatingResolver } from '@mta/testing';
import { lookupSecureMx, lookupTlsa } from './secure';

const HASH = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const runnable = haveValidatingResolver();
if (!runnable && process.env['CI'] === 'true') throw new Error('CI: unbound and ldnsutils are required');

describe.runIf(runnable)('lookups whose DNSSEC status matters (unbound, a signed zone)', () => {
  let resolver: ValidatingResolver;
  const o = () => ({ resolver: { host: resolver.host, port: resolver.port }, timeoutMs: 3000 });

  beforeAll(async () => {
    resolver = await startValidatingResolver([
      {
        name: 'dane.test',
        records: [
          'good.dane.test. 300 IN MX 10 mx.good.dane.test.',
          'mx.good.dane.test. 300 IN A 127.0.0.2',
          `_25._tcp.mx.good.dane.test. 300 IN TLSA 3 1 1 ${HASH}`,
        ],
      },
      {
        name: 'plain.test',
        signed: false,
        records: ['plain.test. 300 IN MX 10 mx.plain.test.', `_25._tcp.mx.plain.test. 300 IN TLSA 3 1 1 ${HASH}`],
      },
    ]);
  }, 60_000);
  afterAll(() => resolver?.stop());

  it('says secure for signed data, with the records', async () => {
    expect(await lookupSecureMx('good.dane.test', o())).toEqual({ status: 'secure', records: ['mx.good.dane.test'] });
    const tlsa = await lookupTlsa('mx.good.dane.test', 25, o());
    expect(tlsa).toMatchObject({ status: 'secure', records: [{ usage: 3, selector: 1, matchingType: 1 }] });
    expect(tlsa.status === 'secure' && tlsa.records[0].data.toString('hex')).toBe(HASH);
  });

  it('says secure-none for a validated denial, and insecure for an unsigned zone', async () => {
    expect(await lookupTlsa('mx.none.dane.test', 25, o())).toEqual({ status: 'secure-none' });
    expect(await lookupSecureMx('plain.test', o())).toEqual({ status: 'insecure' });
    expect(await lookupTlsa('mx.plain.test', 25, o())).toEqual({ status: 'insecure' });
  });

  it('says failed when nobody answers', async () => {
    const silent = { resolver: { host: '127.0.0.1', port: 9 }, timeoutMs: 200 };
    expect((await lookupTlsa('mx.good.dane.test', 25, silent)).status).toBe('failed');
  });
});
