/**
 * The OpenSPF RFC 7208 test suite (fixtures/spf/rfc7208-tests.yml), each scenario's zone served
 * by the loopback DNS server and every case run through mx's SPF check (`checkSpf`: the MAIL FROM
 * identity, or the HELO identity for the null sender), which asks that server through the
 * product's resolver. Known differences are listed in EXPECTED_FAILURES with the result we get
 * instead, so that a change either way shows up.
 */
import { spf } from 'mailauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDnsServer, type FakeDnsServer } from '@mta/testing';
import { checkSpf } from '../inbound';
import { loadSpfSuite, type SpfCase } from '../testing/spf-suite';
import { loopbackResolver, type ResolveFn } from '../testing/loopback-resolver';

/**
 * Cases where the checks as mx runs them (mailauth's default, lenient mode) differ from the
 * suite: case id → [the result we get, why]. mailauth's `strict` mode passes every case (the
 * second block below), so each of these is a choice of the lenient mode, not a defect of the
 * DNS path.
 */
const EXPECTED_FAILURES: Record<string, [string, string]> = {
  'bare-ip6': [
    'fail',
    '"ip6" without an address is skipped for an IPv4 client instead of a syntax error (RFC 7208 §5.6)',
  ],
  'exp-twice': ['fail', 'a second exp= modifier is ignored instead of a permerror (RFC 7208 §6)'],
  'exp-syntax-error': [
    'neutral',
    'an exp= without a domain-spec is ignored instead of a permerror (RFC 7208 §6.2)',
  ],
  'exp-only-macro-char': [
    'fail',
    'the exp-only macro letters c, r, t are expanded outside exp instead of a permerror (RFC 7208 §7.1)',
  ],
  'invalid-hello-macro': [
    'permerror',
    'the name is checked after macro expansion, so a HELO that is not a name makes a permerror where the suite expects the mechanism not to match (RFC 7208 §7.1)',
  ],
  'hello-domain-literal': ['permerror', 'the same, for a HELO that is an address literal'],
  'require-valid-helo': ['permerror', 'the same, for a HELO that is not a fully qualified name'],
};

const suite = loadSpfSuite();

/** What mx records for the case: the MAIL FROM identity, or HELO for `<>` (RFC 7208 §2.4). */
async function product(resolver: ResolveFn, c: SpfCase): Promise<string> {
  const facts = { clientIp: c.host, helo: c.helo || null, sender: c.mailfrom };
  const verdict = await checkSpf(facts, { resolver, hostname: 'mx.vectors.test' });
  return (c.mailfrom ? verdict.mailfrom : verdict.helo)?.result ?? 'none';
}
/** mailauth's strict mode, which mx does not use: for comparison. */
const strict = async (resolver: ResolveFn, c: SpfCase) =>
  (await spf({ ip: c.host, helo: c.helo, sender: c.mailfrom, resolver, strict: true })).status.result;

describe.each(suite.map((s) => [s.description, s] as const))('RFC 7208 suite: %s', (_, scenario) => {
  let server: FakeDnsServer;
  let resolver: ResolveFn;
  beforeAll(async () => {
    server = await startFakeDnsServer({ records: scenario.records, faultFor: scenario.faultFor });
    resolver = loopbackResolver(server);
  });
  afterAll(() => server.close());

  it.each(scenario.cases.map((c) => [c.id, c] as const))('%s', async (id, c) => {
    const got = await product(resolver, c);
    const expected = ([] as string[]).concat(c.result);
    const known = EXPECTED_FAILURES[id];
    if (known) {
      expect(expected).not.toContain(got);
      expect(got).toBe(known[0]);
    } else {
      expect(expected).toContain(got);
    }
  });

  it.each(scenario.cases.map((c) => [c.id, c] as const))('%s (strict mode)', async (_id, c) => {
    expect(([] as string[]).concat(c.result)).toContain(await strict(resolver, c));
  });
});
