/**
 * The OpenSPF RFC 7208 test suite (fixtures/spf/rfc7208-tests.yml), each scenario's zone served
 * by the loopback DNS server and every case run through the SPF check, which asks that server
 * through the resolver function. Known differences are listed in EXPECTED_FAILURES with the
 * result we get instead, so that a change either way shows up.
 */
import { spf } from 'mailauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDnsServer, type FakeDnsServer } from '@mta/testing';
import { loadSpfSuite, type SpfCase } from '../testing/spf-suite';
import { loopbackResolver, type ResolveFn } from '../testing/loopback-resolver';

/** case id → [the result we get, why it differs from the suite] */
const EXPECTED_FAILURES: Record<string, [string, string]> = {};

const suite = loadSpfSuite();

async function check(resolver: ResolveFn, c: SpfCase): Promise<string> {
  const result = await spf({ ip: c.host, helo: c.helo, sender: c.mailfrom, resolver: resolver as never, strict: true } as never);
  return result.status.result;
}

describe.each(suite.map((s) => [s.description, s] as const))('RFC 7208 suite: %s', (_, scenario) => {
  let server: FakeDnsServer;
  let resolver: ResolveFn;
  beforeAll(async () => {
    server = await startFakeDnsServer({ records: scenario.records, faultFor: scenario.faultFor });
    resolver = loopbackResolver(server);
  });
  afterAll(() => server.close());

  it.each(scenario.cases.map((c) => [c.id, c] as const))('%s', async (id, c) => {
    const got = await check(resolver, c);
    const expected = ([] as string[]).concat(c.result);
    const known = EXPECTED_FAILURES[id];
    if (known) {
      expect(expected).not.toContain(got);
      expect(got).toBe(known[0]);
    } else {
      expect(expected).toContain(got);
    }
  });
});
