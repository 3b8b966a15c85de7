import { dkimVerify } from 'mailauth';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  haveOpendkimTestmsg,
  havePythonDkim,
  opendkimSign,
  opendkimVerify,
  pythonDkimSign,
  pythonDkimVerify,
  testDkimKey,
  dkimRecords as records,
  requirePeer,
} from '@mta/testing';
import { DkimStreamSigner, dkimSignMessage, type DkimSigningKey } from './dkim-signer';

// Signatures checked by verifiers nobody here wrote: python3-dkim (Debian's dkimverify) and
// OpenDKIM's opendkim-testmsg; and mailauth's verifier reading their signatures.
const ci = process.env['CI'] === 'true';

const message = (body = 'Hello,\r\n\r\nthe report is attached.  \r\n\r\n\r\n') =>
  Buffer.from(
    [
      'From: Alice <alice@example.org>',
      'To: bob@example.net',
      'Subject: quarterly\r\n report',
      'Date: Mon, 07 Dec 2026 14:00:00 +0000',
      'Message-ID: <q1@example.org>',
      'Received: from elsewhere by somewhere; Mon, 07 Dec 2026 14:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      body,
    ].join('\r\n'),
  );

const signed = async (msg: Buffer, keys: DkimSigningKey[]) => {
  const { signatures, failures } = await dkimSignMessage(msg, keys);
  expect(failures).toEqual([]);
  return Buffer.concat([Buffer.from(signatures.join('')), msg]);
};

/** mailauth's verdicts, with the key records served from `txt`. */
async function mailauthVerify(msg: Buffer, txt: Record<string, string>) {
  const result = await dkimVerify(msg, {
    resolver: async (name: string, type: string) => {
      const value = txt[name.toLowerCase()];
      if (type !== 'TXT' || value === undefined)
        throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
      return [[value]];
    },
  });
  return result.results.map((r) => ({
    domain: r.signingDomain,
    selector: r.selector,
    result: r.status.result,
  }));
}

const rsa = testDkimKey('rsa', 'example.org', 'rsa2026');
const ed = testDkimKey('ed25519', 'example.org', 'ed2026');
let python = false;
let opendkim = false;

beforeAll(async () => {
  python = await havePythonDkim();
  opendkim = await haveOpendkimTestmsg();
  if (ci && !python) throw new Error('python3-dkim (with python3-nacl) is required under CI');
  if (ci && !opendkim)
    throw new Error('opendkim-testmsg with dnsmasq and unshare (root) is required under CI');
});

describe('DKIM signing, checked by python3-dkim', () => {
  it('signs with RSA-2048 and Ed25519 both (RFC 8463), and both verify', async (t) => {
    if (!requirePeer('python3-dkim', python)) return t.skip();
    const verdicts = await pythonDkimVerify(await signed(message(), [rsa, ed]), records(rsa, ed));
    expect(verdicts.map((v) => [v.algorithm, v.selector, v.ok])).toEqual([
      ['rsa-sha256', 'rsa2026', true],
      ['ed25519-sha256', 'ed2026', true],
    ]);
  });

  it('writes relaxed/relaxed, t=, the RFC 6376 §5.4.1 fields and From once more than present', async (t) => {
    if (!requirePeer('python3-dkim', python)) return t.skip();
    const before = Math.floor(Date.now() / 1000);
    const { signatures } = await dkimSignMessage(message(), [rsa]);
    const sig = signatures[0]?.replace(/\r\n[ \t]+/g, ' ') ?? '';
    expect(sig).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=example\.org;/);
    expect(Number(/ t=(\d+);/.exec(sig)?.[1])).toBeGreaterThanOrEqual(before);
    const h = (/ h=([^;]+);/.exec(sig)?.[1] ?? '').split(':').map((f) => f.trim().toLowerCase());
    expect(h.filter((f) => f === 'from')).toHaveLength(2);
    expect(h).toEqual(expect.arrayContaining(['to', 'subject', 'date', 'message-id', 'content-type']));
    expect(h).not.toContain('received');
  });

  it('a From added above the signed one, or a changed body, fails (oversigning, body hash)', async (t) => {
    if (!requirePeer('python3-dkim', python)) return t.skip();
    const good = await signed(message(), [rsa, ed]);
    const forged = Buffer.concat([Buffer.from('From: Mallory <ceo@example.org>\r\n'), good]);
    const altered = Buffer.from(good.toString('latin1').replace('report is', 'report was'), 'latin1');
    for (const bad of [forged, altered]) {
      const verdicts = await pythonDkimVerify(bad, records(rsa, ed));
      expect(verdicts.map((v) => v.ok)).toEqual([false, false]);
    }
  });

  it('signs a message fed in any chunking exactly as the whole (streaming)', async (t) => {
    if (!requirePeer('python3-dkim', python)) return t.skip();
    const body = 'line of a longer body\r\n'.repeat(50_000);
    const whole = message(body);
    const signTime = new Date();
    const signer = new DkimStreamSigner([rsa, ed], signTime);
    for (let i = 0; i < whole.length; i += 1 + (i % 977)) signer.write(whole.subarray(i, i + 1 + (i % 977)));
    const chunked = await signer.finish();
    expect(chunked.signatures).toEqual((await dkimSignMessage(whole, [rsa, ed], signTime)).signatures);
    const verdicts = await pythonDkimVerify(
      Buffer.concat([Buffer.from(chunked.signatures.join('')), whole]),
      records(rsa, ed),
    );
    expect(verdicts.map((v) => v.ok)).toEqual([true, true]);
  });

  it('reports a broken key by selector and still signs with the good one', async (t) => {
    if (!requirePeer('python3-dkim', python)) return t.skip();
    const broken = { ...ed, selector: 'broken', privateKey: 'not a key' };
    const { signatures, failures } = await dkimSignMessage(message(), [rsa, broken]);
    expect(failures.map((f) => f.selector)).toEqual(['broken']);
    expect(failures[0]?.reason).not.toContain('PRIVATE KEY');
    expect(signatures).toHaveLength(1);
  });
});

describe('DKIM signing, checked by opendkim-testmsg (loopback DNS in its own namespace)', () => {
  it('verifies our RSA and Ed25519 signatures', async (t) => {
    if (!requirePeer('opendkim-tools', opendkim)) return t.skip();
    const good = await opendkimVerify(await signed(message(), [rsa, ed]), records(rsa, ed));
    expect(good.stderr + good.stdout).toBe('');
    expect(good.status).toBe(0);
    const altered = await signed(message(), [rsa]);
    const bad = await opendkimVerify(
      Buffer.from(altered.toString('latin1').replace('report is', 'report was'), 'latin1'),
      records(rsa),
    );
    expect(bad.status).not.toBe(0);
    // and it did read our loopback DNS: another key under the selector fails the signature
    const otherKey = testDkimKey('rsa', rsa.domain, rsa.selector);
    expect((await opendkimVerify(altered, records(otherKey))).status).not.toBe(0);
    expect((await opendkimVerify(await signed(message(), [rsa]), records(otherKey))).status).not.toBe(0);
  });
});

describe('mailauth (our verifier) reads signatures made by others', () => {
  it('accepts RSA and Ed25519 signatures made by dkimsign (python3-dkim)', async (t) => {
    if (!requirePeer('python3-dkim', python)) return t.skip();
    let msg: Buffer = message();
    msg = await pythonDkimSign(msg, rsa);
    msg = await pythonDkimSign(msg, ed);
    const results = await mailauthVerify(msg, records(rsa, ed));
    expect(results).toEqual([
      { domain: 'example.org', selector: 'ed2026', result: 'pass' },
      { domain: 'example.org', selector: 'rsa2026', result: 'pass' },
    ]);
  });

  it('accepts an opendkim-testmsg signature and not once the body changes', async (t) => {
    if (!requirePeer('opendkim-tools', opendkim)) return t.skip();
    const msg = await opendkimSign(message(), rsa);
    expect(await mailauthVerify(msg, records(rsa))).toEqual([
      { domain: 'example.org', selector: 'rsa2026', result: 'pass' },
    ]);
    const altered = Buffer.from(msg.toString('latin1').replace('report is', 'report was'), 'latin1');
    // mailauth reports a body hash mismatch as `neutral` (RFC 6376 §6.3: the signature does not verify)
    expect((await mailauthVerify(altered, records(rsa)))[0]?.result).toBe('neutral');
  });
});
