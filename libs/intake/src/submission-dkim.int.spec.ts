import { readMessageBuffer } from '@mta/db';
import {
  dkimRecords,
  havePythonDkim,
  pythonDkimVerify,
  testDkimKey,
  type TestDkimKey,
  requirePeer,
} from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intakeFixture, type IntakeFixture } from './testing/intake-fixture';
import { lastReply, swaks } from './testing/peers';

// End to end: swaks submits over STARTTLS with AUTH, the stored message is checked by
// python3-dkim (Debian's dkimverify library) against the published records.
const ci = process.env['CI'] === 'true';
const PASSWORD = 'correct horse battery staple';

const rsa = testDkimKey('rsa', 'local.example', 'rsa202612');
const ed = testDkimKey('ed25519', 'local.example', 'ed202612');
/** Created later than `rsa` but not active: published ahead of a rotation, must not sign. */
const nextRsa = testDkimKey('rsa', 'local.example', 'rsa202701');
const parked = testDkimKey('ed25519', 'parked.example', 'off');

describe('submission DKIM-signs what it stores', () => {
  let fx: IntakeFixture;
  let port: number;
  let python = false;

  beforeAll(async () => {
    python = await havePythonDkim();
    if (ci && !python) throw new Error('python3-dkim (with python3-nacl) is required under CI');
    fx = await intakeFixture();
    await fx.db.domain.createMany({
      data: [
        { name: 'nokey.example', type: 'local' },
        { name: 'parked.example', type: 'local' },
      ],
    });
    const key = async (k: TestDkimKey, active: boolean, createdAt: Date) => {
      const domain = await fx.db.domain.findUniqueOrThrow({ where: { name: k.domain } });
      await fx.db.dkimKey.create({
        data: {
          domainId: domain.id,
          selector: k.selector,
          algorithm: k.algorithm,
          privateKey: k.privateKey,
          publicKey: k.publicKey,
          active,
          createdAt,
        },
      });
    };
    await key(rsa, true, new Date('2026-12-01T00:00:00Z'));
    await key(ed, true, new Date('2026-12-01T00:00:00Z'));
    await key(nextRsa, false, new Date('2027-01-01T00:00:00Z'));
    await key(parked, false, new Date('2026-12-01T00:00:00Z'));
    await fx.db.account.update({
      where: { address: 'alice@local.example' },
      data: { sendAs: { create: [{ address: 'alice@nokey.example' }, { address: 'alice@parked.example' }] } },
    });
    [port] = (await fx.start('submission')).ports as [number];
  });
  afterAll(() => fx?.close());

  async function submit(from: string, body = 'Hello,\r\n\r\nsigned on the way in.\r\n') {
    const t = await swaks(
      port,
      [
        '--tls',
        '--auth',
        'PLAIN',
        '--auth-user',
        'alice@local.example',
        '--auth-password',
        PASSWORD,
        '--from',
        from,
        '--to',
        'friend@remote.example',
      ],
      `From: Alice <${from}>\r\nTo: friend@remote.example\r\nSubject: signed?\r\n\r\n${body}`,
    );
    const queueId = /^250 2\.0\.0 .*queued as ([0-9A-Z]{16})/.exec(lastReply(t, '250 ') ?? '')?.[1];
    expect(queueId, t.output).toBeDefined();
    const message = await fx.db.message.findUniqueOrThrow({ where: { queueId } });
    const content = await readMessageBuffer(fx.db, message.id);
    expect(message.size).toBe(content.length);
    return content;
  }

  const fieldNames = (content: Buffer) =>
    content
      .toString('latin1')
      .split('\r\n\r\n')[0]
      ?.split('\r\n')
      .filter((l) => !/^[ \t]/.test(l))
      .map((l) => l.slice(0, l.indexOf(':')));

  it('signs with RSA and Ed25519 (the newest active key of each), below our Received', async (t) => {
    if (!requirePeer('python3-dkim', python)) return t.skip();
    const content = await submit('alice@local.example');
    expect(fieldNames(content)?.slice(0, 3)).toEqual(['Received', 'DKIM-Signature', 'DKIM-Signature']);
    const verdicts = await pythonDkimVerify(content, dkimRecords(rsa, ed, nextRsa));
    expect(verdicts.map((v) => [v.domain, v.selector, v.algorithm, v.ok])).toEqual([
      ['local.example', 'rsa202612', 'rsa-sha256', true],
      ['local.example', 'ed202612', 'ed25519-sha256', true],
    ]);
    // The Message-ID and Date that submission adds are covered too.
    expect(verdicts[0]?.headers.toLowerCase()).toMatch(/message-id.*date|date.*message-id/);
  });

  it('signs a 3 MB message as it streams, and the stored copy verifies', async (t) => {
    if (!requirePeer('python3-dkim', python)) return t.skip();
    const content = await submit('alice@local.example', `${'x'.repeat(998)}\r\n`.repeat(3000));
    expect(content.length).toBeGreaterThan(3_000_000);
    const verdicts = await pythonDkimVerify(content, dkimRecords(rsa, ed));
    expect(verdicts.map((v) => v.ok)).toEqual([true, true]);
  });

  it('accepts mail from a domain without a key, unsigned', async () => {
    const content = await submit('alice@nokey.example');
    expect(fieldNames(content)).not.toContain('DKIM-Signature');
    expect(fieldNames(content)?.[0]).toBe('Received');
  });

  it('does not sign with a key that is not active', async () => {
    const content = await submit('alice@parked.example');
    expect(fieldNames(content)).not.toContain('DKIM-Signature');
  });
});
