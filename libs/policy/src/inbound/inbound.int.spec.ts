/**
 * The inbound checks against a loopback DNS server (@mta/testing's fake server) serving SPF,
 * DKIM and DMARC records, with messages signed by dkimpy (Debian python3-dkim), fed to the
 * authenticator in small pieces as intake does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  pythonArcSign,
  pythonArcVerify,
  pythonDkimSign,
  startFakeDnsServer,
  testDkimKey,
  txtRecord,
  type FakeDnsServer,
  type FakeRecord,
  type TestDkimKey,
} from '@mta/testing';
import { DnsCache } from '@mta/dns';
import type { DNSResolver } from 'mailauth';
import {
  authenticationResultsValue,
  checkSpf,
  claimsAuthservId,
  createInboundResolver,
  decide,
  formatAuthenticationResults,
  MessageAuthenticator,
  type AuthVerdict,
  type SmtpFacts,
  type SpfVerdict,
} from './index';
import { txtStrings } from './testing/signers';

const GOOD_IP = '192.0.2.10';
const BAD_IP = '198.51.100.7';
let dns: FakeDnsServer;
let resolver: DNSResolver;
let rsa: TestDkimKey;
let ed: TestDkimKey;
let list: TestDkimKey;

const spfAndDmarc = (domain: string, dmarc: string): FakeRecord[] => [
  txtRecord(domain, `v=spf1 ip4:${GOOD_IP} -all`),
  txtRecord(`_dmarc.${domain}`, dmarc),
];

beforeAll(async () => {
  rsa = testDkimKey('rsa', 'reject.test', 'rsa');
  ed = testDkimKey('ed25519', 'reject.test', 'ed');
  list = testDkimKey('rsa', 'lists.test', 'arc');
  dns = await startFakeDnsServer({
    records: [
      ...spfAndDmarc('reject.test', 'v=DMARC1; p=reject; sp=quarantine'),
      ...spfAndDmarc('quarantine.test', 'v=DMARC1; p=quarantine'),
      ...spfAndDmarc('sampled.test', 'v=DMARC1; p=reject; pct=0'),
      ...spfAndDmarc('relaxed.test', 'v=DMARC1; p=none'),
      txtRecord('rsa._domainkey.reject.test', txtStrings(rsa.record)),
      txtRecord('ed._domainkey.reject.test', txtStrings(ed.record)),
      txtRecord('arc._domainkey.lists.test', txtStrings(list.record)),
      txtRecord('mx.reject.test', `v=spf1 ip4:${GOOD_IP} -all`),
    ],
    faults: { 'slow.test': 'drop', '_dmarc.slow.test': 'drop' },
  });
  resolver = createInboundResolver({
    servers: [{ host: dns.host, port: dns.port }],
    timeoutMs: 200,
    tries: 1,
    cache: new DnsCache(),
  });
});
afterAll(async () => {
  await dns?.close();
});

const facts = (sender: string, clientIp = GOOD_IP, helo: string | null = 'mx.reject.test'): SmtpFacts => ({
  clientIp,
  helo,
  sender,
});
const spf = (f: SmtpFacts) => checkSpf(f, { resolver, hostname: 'mx.ours.test' });

function message(from: string, body = 'Hello,\r\n\r\nthe quarterly figures.\r\n'): Buffer {
  return Buffer.from(
    `From: Someone <${from}>\r\nTo: user@ours.test\r\nSubject: figures\r\n` +
      `Date: Mon, 07 Dec 2026 14:00:00 +0000\r\nMessage-ID: <1@x.test>\r\n\r\n${body}`,
  );
}

/** Feeds the message in 7-octet pieces, as a slow client's packets would come. */
async function authenticate(raw: Buffer, f: SmtpFacts, verdict?: SpfVerdict): Promise<AuthVerdict> {
  const auth = new MessageAuthenticator({ resolver, sender: f.sender });
  for (let i = 0; i < raw.length; i += 7) await auth.write(raw.subarray(i, i + 7));
  return auth.finish(verdict ?? (await spf(f)));
}

const enforce = { enforce: true, trustedSealers: ['lists.test'] };

describe('SPF at MAIL FROM (RFC 7208)', () => {
  it('pass, fail and none for the MAIL FROM identity, and checks HELO too', async () => {
    const pass = await spf(facts('a@reject.test'));
    expect(pass.mailfrom).toMatchObject({ domain: 'reject.test', result: 'pass' });
    expect(pass.helo).toMatchObject({ domain: 'mx.reject.test', result: 'pass' });
    expect((await spf(facts('a@reject.test', BAD_IP))).mailfrom?.result).toBe('fail');
    expect((await spf(facts('a@nothing.test', GOOD_IP, null))).mailfrom?.result).toBe('none');
  });

  it('checks the HELO identity for the null sender, not an address literal', async () => {
    const verdict = await spf(facts('', GOOD_IP));
    expect(verdict.mailfrom).toBeNull();
    expect(verdict.helo?.result).toBe('pass');
    expect((await spf(facts('', GOOD_IP, '[192.0.2.10]'))).helo).toBeNull();
  });

  it('a DNS timeout is temperror (RFC 7208 §8.6), not none or fail', async () => {
    const verdict = await spf(facts('a@slow.test', GOOD_IP, null));
    expect(verdict.mailfrom?.result).toBe('temperror');
  });
});

describe('DKIM verification of independently signed mail (dkimpy)', () => {
  it('an RSA-SHA256 signature verifies and DMARC passes through it, whatever SPF says', async () => {
    const signed = await pythonDkimSign(message('ceo@reject.test'), rsa);
    const verdict = await authenticate(signed, facts('bounce@elsewhere.test', BAD_IP, null));
    expect(verdict.dkim).toMatchObject([{ domain: 'reject.test', algorithm: 'rsa-sha256', result: 'pass' }]);
    expect(verdict.dmarc).toMatchObject({ result: 'pass', alignment: { dkim: 'reject.test', spf: null } });
    expect(decide(verdict, enforce).action).toBe('accept');
  });

  it('an Ed25519-SHA256 signature (RFC 8463) verifies', async () => {
    const signed = await pythonDkimSign(message('ceo@reject.test'), ed);
    const verdict = await authenticate(signed, facts('', BAD_IP, null));
    expect(verdict.dkim).toMatchObject([{ algorithm: 'ed25519-sha256', result: 'pass' }]);
    expect(verdict.dmarc?.result).toBe('pass');
  });

  it('every signature is checked: RSA and Ed25519 on one message', async () => {
    const signed = await pythonDkimSign(await pythonDkimSign(message('ceo@reject.test'), rsa), ed);
    const verdict = await authenticate(signed, facts('', BAD_IP, null));
    expect(verdict.dkim.map((d) => [d.algorithm, d.result]).sort()).toEqual([
      ['ed25519-sha256', 'pass'],
      ['rsa-sha256', 'pass'],
    ]);
  });

  it('a tampered body fails DKIM, then DMARC p=reject gives 550 5.7.1', async () => {
    const signed = await pythonDkimSign(message('ceo@reject.test'), rsa);
    const tampered = Buffer.from(signed.toString().replace('quarterly figures', 'new bank account'));
    const verdict = await authenticate(tampered, facts('ceo@reject.test', BAD_IP, null));
    // mailauth's lenient mode reports a body hash mismatch as `neutral` (strict mode: `fail`);
    // either way the signature does not count for DMARC (RFC 6376 §6.1.3).
    expect(verdict.dkim[0]).toMatchObject({ result: 'neutral', comment: expect.stringMatching(/body hash/) });
    expect(verdict.spf.mailfrom?.result).toBe('fail');
    expect(verdict.dmarc).toMatchObject({ result: 'fail', policy: 'reject' });
    const decision = decide(verdict, enforce);
    expect(decision.action).toBe('reject');
    expect(decision.reply).toMatchObject({ code: 550, enhanced: '5.7.1' });
    expect(decision.reply?.text).toContain('reject.test');
  });
});

describe('DMARC policy (RFC 7489)', () => {
  it('SPF aligned pass is a DMARC pass without any signature', async () => {
    const verdict = await authenticate(message('a@reject.test'), facts('bounce@reject.test'));
    expect(verdict.dmarc).toMatchObject({ result: 'pass', alignment: { spf: 'reject.test' } });
  });

  it('p=quarantine quarantines; p=none (no enforcement by the domain) only tags', async () => {
    const q = await authenticate(message('a@quarantine.test'), facts('a@quarantine.test', BAD_IP));
    expect(decide(q, enforce).action).toBe('quarantine');
    const n = await authenticate(message('a@relaxed.test'), facts('a@relaxed.test', BAD_IP));
    expect(n.dmarc?.result).toBe('fail');
    expect(decide(n, enforce)).toMatchObject({ action: 'accept', appliedPolicy: 'none' });
  });

  it('sp= applies to a subdomain without its own record', async () => {
    const verdict = await authenticate(
      message('a@news.reject.test'),
      facts('a@news.reject.test', BAD_IP, null),
    );
    expect(verdict.dmarc).toMatchObject({ result: 'fail', policy: 'quarantine' });
    expect(decide(verdict, enforce).action).toBe('quarantine');
  });

  it('pct=0 applies the next lower policy (RFC 7489 §6.6.4); pct=100 the published one', async () => {
    const verdict = await authenticate(message('a@sampled.test'), facts('a@sampled.test', BAD_IP));
    expect(verdict.dmarc).toMatchObject({ result: 'fail', policy: 'reject', pct: 0 });
    expect(decide(verdict, { ...enforce, random: () => 0 })).toMatchObject({
      action: 'quarantine',
      appliedPolicy: 'quarantine',
    });
    const full = { ...verdict, dmarc: verdict.dmarc && { ...verdict.dmarc, pct: 100 } };
    expect(decide(full, { ...enforce, random: () => 0.999 }).action).toBe('reject');
  });

  it('enforcement off (per recipient domain) turns reject and quarantine into accept + tag', async () => {
    const verdict = await authenticate(message('ceo@reject.test'), facts('ceo@reject.test', BAD_IP, null));
    const decision = decide(verdict, { ...enforce, enforce: false });
    expect(decision).toMatchObject({ action: 'accept', appliedPolicy: 'reject' });
    expect(formatAuthenticationResults('mx.ours.test', verdict, decision)).toMatch(
      /dmarc=fail .*enforcement off/,
    );
  });

  it('a DNS timeout on the SPF record defers a would-be reject with 451 4.7.0, never a 5xx', async () => {
    const verdict = await authenticate(message('ceo@reject.test'), facts('ceo@reject.test', BAD_IP, null), {
      mailfrom: { domain: 'reject.test', result: 'temperror', comment: 'DNS timeout', info: 'spf=temperror' },
      helo: null,
    });
    expect(decide(verdict, enforce)).toMatchObject({
      action: 'defer',
      reply: { code: 451, enhanced: '4.7.0' },
    });
  });

  it('a DNS timeout on the DMARC record is temperror: 451 4.7.0', async () => {
    const verdict = await authenticate(message('a@slow.test'), facts('a@other.test', GOOD_IP, null));
    expect(verdict.dmarc?.result).toBe('temperror');
    expect(decide(verdict, enforce)).toMatchObject({ action: 'defer', reply: { code: 451 } });
  });

  it('no From domain with a record: DMARC none, accepted', async () => {
    const verdict = await authenticate(
      message('someone@nothing.test'),
      facts('x@nothing.test', BAD_IP, null),
    );
    expect(verdict.dmarc?.result).toBe('none');
    expect(decide(verdict, enforce)).toMatchObject({ action: 'accept', reply: null });
  });
});

describe('ARC (RFC 8617): a trusted sealer overrides a DMARC failure', () => {
  /** A list re-sent ceo@reject.test's mail from its own server, breaking SPF, and sealed it. */
  function viaList(): Promise<Buffer> {
    const original = message('ceo@reject.test', 'Hello list,\r\n\r\n[list footer]\r\n');
    const withAr = Buffer.concat([
      Buffer.from(
        'Authentication-Results: lists.test; spf=pass smtp.mailfrom=reject.test; dmarc=pass header.from=reject.test\r\n',
      ),
      original,
    ]);
    return pythonArcSign(withAr, list, 'lists.test');
  }

  it('the chain verifies and names its sealer', async () => {
    const verdict = await authenticate(await viaList(), facts('list-bounces@lists.test', BAD_IP, null));
    expect(verdict.arc).toMatchObject({ result: 'pass', instance: 1, sealer: 'lists.test' });
    expect(verdict.dmarc?.result).toBe('fail');
    expect(decide(verdict, enforce)).toMatchObject({
      action: 'accept',
      reason: expect.stringContaining('ARC'),
    });
    expect(decide(verdict, { ...enforce, trustedSealers: ['other.test'] }).action).toBe('reject');
  });
});

describe('ARC sealing when we pass a message on (RFC 8617 §5.1)', () => {
  const ours = () => ({ domain: 'ours.test', selector: 'arc', privateKey: sealKey.privateKey });
  let sealKey: TestDkimKey;
  const records = () => ({
    'arc._domainkey.ours.test': sealKey.record,
    'arc._domainkey.lists.test': list.record,
    'rsa._domainkey.reject.test': rsa.record,
  });
  beforeAll(() => {
    sealKey = testDkimKey('rsa', 'ours.test', 'arc');
  });

  async function sealed(raw: Buffer, f: SmtpFacts) {
    const auth = new MessageAuthenticator({ resolver, sender: f.sender, seal: ours() });
    for (let i = 0; i < raw.length; i += 1000) await auth.write(raw.subarray(i, i + 1000));
    const verdict = await auth.finish(await spf(f));
    const seal = await auth.seal(
      authenticationResultsValue('mx.ours.test', verdict, decide(verdict, enforce)),
    );
    return { seal, out: Buffer.concat([...seal.fields.map((h) => Buffer.from(h)), raw]) };
  }

  it('seals a message without a chain (i=1, cv=none), and dkimpy validates the chain', async () => {
    const signed = await pythonDkimSign(message('ceo@reject.test'), rsa);
    const { seal, out } = await sealed(signed, facts('ceo@reject.test'));
    expect(seal.error).toBeNull();
    expect(seal.fields.map((f) => f.split(':')[0])).toEqual([
      'ARC-Seal',
      'ARC-Message-Signature',
      'ARC-Authentication-Results',
    ]);
    expect(seal.fields[0]).toMatch(/i=1;[^]*cv=none;[^]*d=ours\.test;[^]*s=arc;/);
    expect(seal.fields[2]).toMatch(/^ARC-Authentication-Results: i=1; mx\.ours\.test;[^]*dkim=pass/);
    expect(await pythonArcVerify(out, records())).toMatchObject({ cv: 'pass', instances: 1 });
  });

  it("adds instance 2 to a list's valid chain (cv=pass), which dkimpy validates", async () => {
    const viaList = await pythonArcSign(
      Buffer.concat([
        Buffer.from('Authentication-Results: lists.test; spf=pass smtp.mailfrom=reject.test\r\n'),
        message('ceo@reject.test'),
      ]),
      list,
      'lists.test',
    );
    const { seal, out } = await sealed(viaList, facts('bounces@lists.test', BAD_IP, null));
    expect(seal.fields[0]).toMatch(/i=2;[^]*cv=pass;/);
    expect(await pythonArcVerify(out, records())).toMatchObject({ cv: 'pass', instances: 2 });
  });

  it('does not seal when not asked to (no key)', async () => {
    const auth = new MessageAuthenticator({ resolver, sender: '' });
    await auth.write(message('a@reject.test'));
    const verdict = await auth.finish({ mailfrom: null, helo: null });
    expect(
      await auth.seal(authenticationResultsValue('mx.ours.test', verdict, decide(verdict, enforce))),
    ).toEqual({
      fields: [],
      error: null,
    });
  });
});

describe('Authentication-Results (RFC 8601)', () => {
  it('one field with our authserv-id and a result for each method', async () => {
    const signed = await pythonDkimSign(message('ceo@reject.test'), ed);
    const verdict = await authenticate(signed, facts('ceo@reject.test'));
    const field = formatAuthenticationResults('mx.ours.test', verdict, decide(verdict, enforce));
    expect(field).toMatch(/^Authentication-Results: mx\.ours\.test;\r\n\t/);
    expect(field).toMatch(/spf=pass .*smtp\.mailfrom=ceo@reject\.test/);
    expect(field).toMatch(/dkim=pass header\.i=@reject\.test header\.s=ed header\.a=ed25519-sha256/);
    expect(field).toMatch(/arc=none/);
    expect(field).toMatch(/dmarc=pass .*header\.from=reject\.test/);
    expect(field.endsWith('\r\n')).toBe(true);
    expect(field.split('\r\n').every((line) => line.length <= 998)).toBe(true);
  });

  it('recognises fields that claim our authserv-id (RFC 8601 §5), whatever the case or comments', () => {
    expect(claimsAuthservId(' mx.ours.test; spf=pass', 'mx.ours.test')).toBe(true);
    expect(claimsAuthservId('MX.Ours.Test 1; dkim=pass', 'mx.ours.test')).toBe(true);
    expect(claimsAuthservId('(forged) mx.ours.test;dmarc=pass', 'mx.ours.test')).toBe(true);
    expect(claimsAuthservId('"mx.ours.test"; none', 'mx.ours.test')).toBe(true);
    expect(claimsAuthservId('mx.ours.test.evil.test; spf=pass', 'mx.ours.test')).toBe(false);
    expect(claimsAuthservId('lists.test; spf=pass', 'mx.ours.test')).toBe(false);
  });
});
