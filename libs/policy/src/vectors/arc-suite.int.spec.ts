/**
 * ValiMail's ARC test suites (fixtures/arc/), each scenario's key records served by the loopback
 * DNS server. Validation: the chain validation status of every message against the suite's `cv`.
 * Signing: the ARC set we add, compared as the suite's driver (testarc.py) compares it, tag by
 * tag with whitespace removed. Known differences are in EXPECTED_*, with the result we get.
 */
import { sealMessage } from 'mailauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDnsServer, type FakeDnsServer } from '@mta/testing';
import { MessageAuthenticator } from '../inbound';
import { loadArcSignSuite, loadArcValidationSuite, tagSet, type ArcSignCase } from '../testing/arc-suite';
import { loopbackResolver, type ResolveFn } from '../testing/loopback-resolver';
import { haveDkimpy, startDkimpy, type Dkimpy } from '../testing/dkimpy';

/**
 * Cases where the checks as mx runs them (mailauth's default, lenient mode) differ from the
 * suite: case id → [the status we get, why]. The four ARC-Seal syntax cases fail in
 * mailauth's strict mode as the suite wants (with the reason in the comment); h= empty fails
 * in both modes.
 */
const EXPECTED_VALIDATION_FAILURES: Record<string, [string, string]> = {
  as_format_tags_sc: [
    'pass',
    'an empty tag-spec (";;") in the ARC-Seal is tolerated (warning arc-tag-syntax); strict: "as empty tag-spec"',
  ],
  as_format_inv_tag_key: [
    'pass',
    'a tag name that is not ALPHA *ALNUMPUNC is tolerated (RFC 6376 §3.2); strict: "as invalid tag name"',
  ],
  as_format_tags_dup: [
    'pass',
    'a duplicate tag is tolerated, RFC 6376 §3.2 makes it invalid; strict: "as duplicate tag: s"',
  ],
  as_format_tags_key_case: [
    'pass',
    'tag names are read case-insensitively (S= as s=), RFC 6376 §3.2 says case-sensitive; strict: "as missing s="',
  ],
  ams_fields_h_empty: [
    'fail',
    'an ARC-Message-Signature with an empty h= is not valid for mailauth (RFC 6376 §3.5/§5.4: From must be signed); the suite expects pass',
  ],
};

/** The chain validation status mx's authenticator finds (the message fed in 4 KiB chunks, as data arrives). */
async function chainStatus(resolver: ResolveFn, message: Buffer): Promise<string> {
  const auth = new MessageAuthenticator({ resolver, sender: '' });
  for (let at = 0; at < message.length; at += 4096) await auth.write(message.subarray(at, at + 4096));
  const verdict = await auth.finish({ mailfrom: null, helo: null });
  return verdict.arc.result;
}

describe.each(loadArcValidationSuite().map((s) => [s.description, s] as const))(
  'ARC validation suite: %s',
  (_, scenario) => {
    let server: FakeDnsServer;
    let resolver: ResolveFn;
    beforeAll(async () => {
      server = await startFakeDnsServer({ records: scenario.records });
      resolver = loopbackResolver(server);
    });
    afterAll(() => server.close());

    it.each(scenario.cases.map((c) => [c.id, c] as const))('%s', async (id, c) => {
      const got = await chainStatus(resolver, c.message);
      // An empty `cv` marks a chain that already failed upstream (an ARC-Seal says cv=fail): the
      // suite's reference, dkimpy, reports no status for such a "terminated" chain. RFC 8617
      // §5.2 step 2 makes it "fail", which is what we must put in our own seal's cv=.
      const expected = c.cv === '' ? 'fail' : c.cv;
      const known = EXPECTED_VALIDATION_FAILURES[id];
      if (known) {
        expect(got).not.toBe(expected);
        expect(got).toBe(known[0]);
      } else {
        expect(got).toBe(expected);
      }
    });
  },
);

/** The ARC set we add: the chain validated first (its status is the new seal's cv=), then sealed. */
async function seal(
  resolver: ResolveFn,
  c: ArcSignCase,
  key: { domain: string; sel: string; privatekey: string },
) {
  const cv = await chainStatus(resolver, c.message);
  // The suite consolidates the Authentication-Results of our authserv-id into the AAR
  // (its README, "AR Consolidation"): every result, in order.
  const authResults = consolidatedResults(c.message, c.srvId);
  const added = await sealMessage(c.message, {
    signingDomain: key.domain,
    selector: key.sel,
    privateKey: key.privatekey,
    signTime: new Date(c.t * 1000),
    headerList: c.sigHeaders,
    cv,
    authResults,
  });
  return { raw: added, fields: parseHeaders(added.toString()) };
}

function consolidatedResults(message: Buffer, srvId: string): string {
  const head = message.toString().split('\r\n\r\n')[0];
  const values = head
    .replace(/\r\n[ \t]/g, ' ')
    .split('\r\n')
    .filter((line) => /^authentication-results:/i.test(line))
    .map((line) => line.slice(line.indexOf(':') + 1).trim())
    .filter((value) => value.split(';')[0].trim().toLowerCase() === srvId.toLowerCase());
  const results = values.flatMap((v) =>
    v
      .split(';')
      .slice(1)
      .map((r) => r.trim())
      .filter(Boolean),
  );
  return [srvId, ...results].join('; ');
}

function parseHeaders(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of block
    .replace(/\r\n[ \t]/g, ' ')
    .split('\r\n')
    .filter(Boolean)) {
    const colon = field.indexOf(':');
    out[field.slice(0, colon).trim().toLowerCase()] = field.slice(colon + 1).trim();
  }
  return out;
}

describe.each(loadArcSignSuite().map((s) => [s.description, s] as const))(
  'ARC signing suite: %s',
  (_, scenario) => {
    let server: FakeDnsServer;
    let resolver: ResolveFn;
    let dkimpy: Dkimpy;
    beforeAll(async () => {
      if (!haveDkimpy()) throw new Error('python3-dkim (dkimpy) is needed: apt-get install python3-dkim');
      server = await startFakeDnsServer({ records: scenario.records });
      resolver = loopbackResolver(server);
      dkimpy = startDkimpy(server);
    });
    afterAll(async () => {
      await dkimpy.close();
      await server.close();
    });

    it.each(scenario.cases.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
      const key = {
        domain: String(scenario.domain),
        sel: String(scenario.sel),
        privatekey: String(scenario.privatekey),
      };
      const { raw, fields } = await seal(resolver, c, key);
      if (!c.AS) {
        expect(fields['arc-seal']).toBeUndefined();
        return;
      }
      // What the set says, tag for tag (the signatures themselves are checked below: mailauth
      // lists h= bottom-up as the names are written and adds q=dns/txt, both allowed by
      // RFC 8617 §4.1.2 and RFC 6376 §3.5, so b= cannot equal the suite's byte for byte).
      expect(content(fields['arc-message-signature'])).toEqual(content(c.AMS));
      expect(tagSet(fields['arc-authentication-results'] ?? '')).toEqual(tagSet(c.AAR));
      expect(content(fields['arc-seal'])).toEqual(content(c.AS));
      // The seal we made, checked by an independent verifier against the same DNS server. For a
      // chain we seal with cv=fail dkimpy checks our ARC-Message-Signature, then answers `None`
      // ("the chain is terminated") instead of a status.
      const sealedCv = /\bcv=(\w+)/.exec(c.AS)?.[1];
      const chain = await dkimpy.verifyArc(Buffer.concat([raw, c.message]));
      expect(chain).toBe(sealedCv === 'fail' ? 'None' : 'pass');
    });
  },
);

/** A signature's tags without b= and q=, h= as a lower-case sorted list. */
function content(value: string | undefined): string[] {
  return tagSet(value ?? '')
    .filter((tag) => !/^(b|q)=/.test(tag))
    .map((tag) =>
      tag.startsWith('h=') ? `h=${tag.slice(2).toLowerCase().split(':').sort().join(':')}` : tag,
    );
}
