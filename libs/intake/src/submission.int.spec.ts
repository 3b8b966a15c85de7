import { readMessageBuffer } from '@mta/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intakeFixture, type IntakeFixture } from './testing/intake-fixture';
import { lastReply, python, swaks } from './testing/peers';

const PASSWORD = 'correct horse battery staple';
const auth = (mechanism: 'PLAIN' | 'LOGIN', user = 'alice@local.example', password = PASSWORD) => [
  '--auth',
  mechanism,
  '--auth-user',
  user,
  '--auth-password',
  password,
];

describe('submission (587 STARTTLS, 465 implicit TLS) with real clients', () => {
  let fx: IntakeFixture;
  let port587: number;
  let port465: number;

  beforeAll(async () => {
    fx = await intakeFixture();
    [port587, port465] = (await fx.start('submission')).ports as [number, number];
  });
  afterAll(() => fx?.close());

  const queued = (t: { replies: string[] }) =>
    /^250 2\.0\.0 .*queued as ([0-9A-Z]{16})/.exec(lastReply(t, '250 ') ?? '')?.[1];
  async function stored(queueId: string) {
    const message = await fx.db.message.findUniqueOrThrow({
      where: { queueId },
      include: { recipients: true },
    });
    return { message, text: (await readMessageBuffer(fx.db, message.id)).toString('utf8') };
  }

  it('accepts AUTH PLAIN after STARTTLS on 587 and sends to any domain, adding Message-ID and Date', async () => {
    const t = await swaks(
      port587,
      ['--tls', ...auth('PLAIN'), '--from', 'alice@local.example', '--to', 'friend@remote.example'],
      'From: Alice <alice@local.example>\r\nTo: friend@remote.example\r\nSubject: hi\r\n\r\nHello',
    );
    expect(lastReply(t, '235'), t.output).toMatch(/^235 2\.7\.0/);
    const queueId = queued(t);
    expect(queueId, t.output).toBeDefined();
    const { message, text } = await stored(queueId ?? '');
    expect(message).toMatchObject({
      source: 'submission',
      authUser: 'alice@local.example',
      sender: 'alice@local.example',
    });
    expect(message.recipients.map((r) => [r.address, r.route])).toEqual([
      ['friend@remote.example', 'remote'],
    ]);
    expect(text).toMatch(/with ESMTPSA\s+id /);
    expect(text).toMatch(/\r\nMessage-ID: <[^>]+@mx\.test\.example>\r\n/);
    expect(text).toMatch(/\r\nDate: \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}\r\n/);
    expect(text).not.toContain(PASSWORD);
    // The inbound checks of port 25 (SPF, DKIM, DMARC) are not run for our own users' mail.
    expect(message.authResults).toBeNull();
    expect(text).not.toMatch(/^Authentication-Results:/im);
  });

  it('accepts AUTH LOGIN on 465 (implicit TLS) and keeps a Message-ID that is there', async () => {
    const t = await swaks(
      port465,
      ['--tlsc', ...auth('LOGIN'), '--from', 'sales@local.example', '--to', 'friend@remote.example'],
      'From: <sales@local.example>\r\nMessage-ID: <kept@local.example>\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nSubject: x\r\n\r\nHello',
    );
    const { text } = await stored(queued(t) ?? '');
    expect(text.match(/^Message-ID:/gim)).toHaveLength(1);
    expect(text).toContain('Message-ID: <kept@local.example>');
    expect(text.match(/^Date:/gim)).toHaveLength(1);
  });

  it('keeps the 1000-octet line limit for our own users: 1000 pass, 1001 get 500 5.5.2', async () => {
    const send = (line: number) =>
      swaks(
        port587,
        ['--tls', ...auth('PLAIN'), '--from', 'alice@local.example', '--to', 'friend@remote.example'],
        `From: <alice@local.example>\r\nSubject: line ${line}\r\n\r\n${'y'.repeat(line - 2)}`,
      );
    const ok = await send(1000);
    expect(lastReply(ok, '250'), ok.output).toMatch(/^250 2\.0\.0/);
    const long = await send(1001);
    expect(lastReply(long, '500'), long.output).toMatch(/^500 5\.5\.2/);
  });

  it('refuses MAIL before AUTH with 530 5.7.0', async () => {
    const t = await swaks(port587, [
      '--tls',
      '--from',
      'alice@local.example',
      '--to',
      'friend@remote.example',
      '--quit-after',
      'MAIL',
    ]);
    expect(lastReply(t, '530'), t.output).toMatch(/^530 5\.7\.0/);
  });

  it('offers no AUTH before TLS and refuses it if tried (smtplib)', async () => {
    const out = await python(
      port587,
      `s = smtplib.SMTP('127.0.0.1', port)
s.ehlo('client.example')
print('auth' in s.esmtp_features)
code, msg = s.docmd('AUTH', 'PLAIN AGFsaWNlQGxvY2FsLmV4YW1wbGUAeA==')
print(code, msg.decode().split(' ')[0])`,
    );
    const [advertised, refused] = out.trim().split('\n');
    expect(advertised).toBe('False');
    expect(refused).toBe('538 5.7.11');
  });

  it('refuses a wrong password with 535 5.7.8', async () => {
    const t = await swaks(port587, [
      '--tls',
      ...auth('PLAIN', 'alice@local.example', 'wrong'),
      '--quit-after',
      'AUTH',
    ]);
    expect(lastReply(t, '535'), t.output).toMatch(/^535 5\.7\.8/);
    expect(t.output).not.toContain(PASSWORD);
  });

  it('refuses an envelope sender the account does not own (553 5.7.1) and takes a send-as address', async () => {
    const bad = await swaks(port587, [
      '--tls',
      ...auth('PLAIN'),
      '--from',
      'ceo@local.example',
      '--to',
      'friend@remote.example',
      '--quit-after',
      'MAIL',
    ]);
    expect(lastReply(bad, '553'), bad.output).toMatch(/^553 5\.7\.1 /);
    const ok = await swaks(port587, [
      '--tls',
      ...auth('PLAIN'),
      '--from',
      'sales@local.example',
      '--to',
      'friend@remote.example',
      '--quit-after',
      'MAIL',
    ]);
    expect(lastReply(ok, '250 2.1.0'), ok.output).toBeDefined();
  });

  it('checks the header From the same way (553 5.7.1)', async () => {
    const t = await swaks(
      port587,
      ['--tls', ...auth('PLAIN'), '--from', 'alice@local.example', '--to', 'friend@remote.example'],
      'From: The CEO <ceo@local.example>\r\nSubject: wire money\r\n\r\nNow',
    );
    expect(lastReply(t, '553'), t.output).toMatch(/^553 5\.7\.1 /);
    expect(queued(t)).toBeUndefined();
  });

  it('locks an account out after repeated failures, even with the right password (454 4.7.0)', async () => {
    const victim = 'bob@local.example';
    const domain = await fx.db.domain.findUniqueOrThrow({ where: { name: 'local.example' } });
    const alice = await fx.db.account.findUniqueOrThrow({ where: { address: 'alice@local.example' } });
    await fx.db.account.create({
      data: { address: victim, passwordHash: alice.passwordHash, domainId: domain.id },
    });
    for (let i = 0; i < 5; i++) {
      const t = await swaks(port587, [
        '--tls',
        ...auth('PLAIN', victim, `guess-${i}`),
        '--quit-after',
        'AUTH',
      ]);
      expect(lastReply(t, '535'), t.output).toBeDefined();
    }
    const locked = await swaks(port587, [
      '--tls',
      ...auth('PLAIN', victim, PASSWORD),
      '--quit-after',
      'AUTH',
    ]);
    expect(lastReply(locked, '454'), locked.output).toMatch(/^454 4\.7\.0/);
    // Other accounts from the same address are not locked out.
    const other = await swaks(port587, ['--tls', ...auth('PLAIN'), '--quit-after', 'AUTH']);
    expect(lastReply(other, '235'), other.output).toBeDefined();
  });
});
