import { createHash, randomBytes } from 'node:crypto';
import { readMessageBuffer } from '@mta/db';
import { QueueName } from '@mta/queue';
import { until } from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intakeFixture, type IntakeFixture } from './testing/intake-fixture';
import { lastReply, python, swaks } from './testing/peers';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const LIMIT = 64 * 1024;

/** `n` bytes of text in lines of at most 78 characters, not ending in CRLF. */
function text(n: number): string {
  const line = `${'a'.repeat(76)}\r\n`;
  const full = line.repeat(Math.floor(n / line.length));
  const rest = n - full.length;
  return rest >= 2
    ? full + 'b'.repeat(rest)
    : full.slice(0, full.length - line.length) + 'c'.repeat(line.length + rest);
}

/** The stored message minus the first field (folded or not), which must start with `start`. */
function withoutField(stored: Buffer, start: string): Buffer {
  const text = stored.toString('latin1');
  expect(text.startsWith(start)).toBe(true);
  const end = text.search(/\r\n(?![ \t])/);
  return stored.subarray(end + 2);
}

/** The stored message minus our Authentication-Results and Received fields (in that order). */
function withoutOurReceived(stored: Buffer): Buffer {
  return withoutField(
    withoutField(stored, 'Authentication-Results: mx.test.example;'),
    'Received: from client.example',
  );
}

describe('mx (port 25) with real clients', () => {
  let fx: IntakeFixture;
  let port: number;

  beforeAll(async () => {
    fx = await intakeFixture();
    [port] = (await fx.start('mx', { MESSAGE_SIZE_LIMIT: String(LIMIT) })).ports as [number];
  });
  afterAll(() => fx?.close());

  async function stored(queueId: string) {
    const message = await fx.db.message.findUniqueOrThrow({
      where: { queueId },
      include: { recipients: true },
    });
    return { message, body: await readMessageBuffer(fx.db, message.id) };
  }
  const queued = (t: { replies: string[] }) =>
    /^250 2\.0\.0 .*queued as ([0-9A-Z]{16})/.exec(lastReply(t, '250 ') ?? '')?.[1];

  it('accepts mail for a local mailbox from swaks, stores it byte for byte, and enqueues its id', async () => {
    // swaks ends the data with CRLF . CRLF itself: the message is `data` plus that CRLF.
    const data =
      'From: <bob@remote.example>\r\nTo: <alice@local.example>\r\nSubject: hello\r\n\r\nHi Alice.\r\n.dot line';
    const t = await swaks(port, ['--from', 'bob@remote.example', '--to', 'alice@local.example'], data);
    const queueId = queued(t);
    expect(queueId, t.output).toBeDefined();
    const { message, body } = await stored(queueId ?? '');
    expect(message).toMatchObject({
      source: 'mx',
      sender: 'bob@remote.example',
      clientAddress: '127.0.0.1',
      clientHelo: 'client.example',
      subject: 'hello',
    });
    expect(message.recipients.map((r) => [r.address, r.route, r.status])).toEqual([
      ['alice@local.example', 'local', 'queued'],
    ]);
    expect(sha(withoutOurReceived(body))).toBe(sha(`${data}\r\n`));
    // No DNS records for remote.example: SPF none, no signature, no DMARC policy (RFC 8601).
    expect(body.toString()).toMatch(
      /^Authentication-Results: mx\.test\.example;\r\n\tspf=none [^\r]*smtp\.mailfrom=bob@remote\.example[^\r]*;\r\n\tdkim=none[^\r]*;\r\n\tarc=none;\r\n\tdmarc=none [^\r]*header\.from=remote\.example\r\n/,
    );
    expect(message.authResults).toMatchObject({ dmarc: { result: 'none' }, decision: { action: 'accept' } });
    expect(withoutField(body, 'Authentication-Results:').toString()).toMatch(
      new RegExp(
        `^Received: from client\\.example \\(unknown \\[127\\.0\\.0\\.1\\]\\)\\s+by mx\\.test\\.example \\(mta\\)\\s+with ESMTP\\s+id ${queueId}`,
      ),
    );
    // The job follows the commit (the 250 does not wait for Redis).
    const job = await until('the accepted job', () =>
      fx.producer.queue(QueueName.Accepted).getJob(`accepted/${message.id}`),
    );
    expect(job?.data).toEqual({ messageIds: [message.id] });
  });

  it('says ESMTPS and the cipher in Received after STARTTLS, and offers no AUTH on port 25', async () => {
    const t = await swaks(port, [
      '--tls',
      '--from',
      'bob@remote.example',
      '--to',
      'alice@local.example',
      '--quit-after',
      'RCPT',
    ]);
    expect(t.replies.join('\n')).not.toMatch(/AUTH/);
    expect(t.output).toMatch(/TLS started/);
    const sent = await swaks(
      port,
      ['--tls', '--from', 'bob@remote.example', '--to', 'alice@local.example'],
      'Subject: tls\r\n\r\nx\r\n',
    );
    const { body } = await stored(queued(sent) ?? '');
    expect(body.toString()).toMatch(/\(using TLSv1\.[23] with cipher [A-Z0-9_-]+.*\)[\s\S]*with ESMTPS id/);
  });

  it('refuses an unknown local user with 550 5.1.1', async () => {
    const t = await swaks(port, [
      '--from',
      'bob@remote.example',
      '--to',
      'nobody@local.example',
      '--quit-after',
      'RCPT',
    ]);
    expect(lastReply(t, '550')).toMatch(/^550 5\.1\.1 <nobody@local\.example>: Recipient address rejected/);
  });

  it('accepts postmaster of every local domain and the catch-all domain', async () => {
    for (const to of [
      'postmaster@local.example',
      'PostMaster@catchall.example',
      'anyone@catchall.example',
      'x@relay.example',
    ]) {
      const t = await swaks(port, ['--from', 'bob@remote.example', '--to', to, '--quit-after', 'RCPT']);
      expect(lastReply(t, '250 2.1.5'), `${to}: ${t.output}`).toBeDefined();
    }
  });

  it('is not an open relay: every trick gets 554 5.7.1 or a syntax error (smtplib)', async () => {
    const tricks = [
      'victim@remote.example',
      '@local.example:victim@remote.example',
      '@local.example,@relay.example:victim@remote.example',
      'victim%remote.example@local.example',
      '"victim@remote.example"@local.example',
      'remote.example!victim@local.example',
      'victim@[192.0.2.1]',
      'victim@[IPv6:2001:db8::1]',
      'victim@local.example@remote.example',
    ];
    const out = await python(
      port,
      `s = smtplib.SMTP('127.0.0.1', port)
s.ehlo('client.example')
for to in ${JSON.stringify(tricks)}:
    s.rset()
    s.mail('spammer@remote.example')
    code, msg = s.docmd('RCPT TO:<' + to + '>')
    print(to, code, msg.decode().split(' ')[0])
s.quit()`,
    );
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(tricks.length);
    for (const line of lines) expect(line).toMatch(/ (554 5\.7\.1|501 5\.1\.3)$/);
    expect(lines.filter((l) => l.endsWith('554 5.7.1'))).toHaveLength(tricks.length - 1);
  });

  it('takes a message of exactly SIZE and refuses one byte more with 552 5.3.4', async () => {
    // The limit applies to the data as the client sent it (our Received header comes on top).
    // swaks adds the final CRLF, which is part of the message: LIMIT - 2 bytes + CRLF = LIMIT.
    const header = 'Subject: size\r\n\r\n';
    const exact = header + text(LIMIT - header.length - 2);
    expect(exact.length).toBe(LIMIT - 2);
    const ok = await swaks(port, ['--from', 'bob@remote.example', '--to', 'alice@local.example'], exact);
    const queueId = queued(ok);
    expect(queueId, ok.output).toBeDefined();
    const { message } = await stored(queueId ?? '');
    expect(message.size - (await readMessageBuffer(fx.db, message.id)).indexOf('Subject: size')).toBe(LIMIT);
    const over = header + text(LIMIT - header.length - 1);
    const refused = await swaks(port, ['--from', 'bob@remote.example', '--to', 'alice@local.example'], over);
    expect(lastReply(refused, '552'), refused.output).toMatch(/^552 5\.3\.4/);
  });

  it('refuses a mail loop: 50 Received fields pass, 51 get 554 5.4.6', async () => {
    const hops = (n: number) =>
      Array.from(
        { length: n },
        (_, i) =>
          `Received: from hop${i}.example by hop${i + 1}.example; Thu, 26 Nov 2026 10:00:00 +0000\r\n`,
      ).join('');
    const fifty = await swaks(
      port,
      ['--from', 'bob@remote.example', '--to', 'alice@local.example'],
      `${hops(50)}Subject: loop\r\n\r\nx\r\n`,
    );
    expect(queued(fifty), fifty.output).toBeDefined();
    const fiftyOne = await swaks(
      port,
      ['--from', 'bob@remote.example', '--to', 'alice@local.example'],
      `${hops(51)}Subject: loop\r\n\r\nx\r\n`,
    );
    expect(lastReply(fiftyOne, '554'), fiftyOne.output).toMatch(/^554 5\.4\.6/);
  });

  it('stores 8-bit and SMTPUTF8 mail byte for byte (smtplib)', async () => {
    const out = await python(
      port,
      `msg = 'From: <jörg@remote.example>\\r\\nSubject: Grüße\\r\\n\\r\\nÄÖÜ äöü ß €\\r\\n'.encode('utf-8')
s = smtplib.SMTP('127.0.0.1', port)
s.ehlo('client.example')
r = s.sendmail('jörg@remote.example', ['alice@local.example'], msg, mail_options=['SMTPUTF8', 'BODY=8BITMIME'])
print(s.noop()[0])
s.quit()`,
    );
    expect(out.trim()).toBe('250');
    const message = await fx.db.message.findFirstOrThrow({ where: { sender: 'jörg@remote.example' } });
    expect(message.smtpUtf8).toBe(true);
    expect(message.eightBitMime).toBe(true);
    const body = withoutOurReceived(await readMessageBuffer(fx.db, message.id));
    expect(sha(body)).toBe(
      sha(Buffer.from('From: <jörg@remote.example>\r\nSubject: Grüße\r\n\r\nÄÖÜ äöü ß €\r\n', 'utf8')),
    );
  });

  it('takes body lines longer than 1000 octets (RFC 5321 §4.5.3.1) and stores them byte for byte', async () => {
    const out = await python(
      port,
      `import hashlib
msg = ('Subject: long line\\r\\n\\r\\n' + 'x' * 5000 + '\\r\\nshort\\r\\n').encode()
s = smtplib.SMTP('127.0.0.1', port)
s.ehlo('client.example')
s.sendmail('long@remote.example', ['alice@local.example'], msg)
s.quit()
print(hashlib.sha256(msg).hexdigest())`,
    );
    const message = await fx.db.message.findFirstOrThrow({ where: { subject: 'long line' } });
    expect(sha(withoutOurReceived(await readMessageBuffer(fx.db, message.id)))).toBe(out.trim());
  });

  it('stores a 10 MB message byte for byte (smtplib, default size limit)', async () => {
    const [bigPort] = (await fx.start('mx')).ports as [number];
    const out = await python(
      bigPort,
      `import base64, hashlib, os
lines = [base64.b64encode(os.urandom(57)).decode() for _ in range(10 * 1024 * 1024 // 78)]
msg = ('Subject: big\\r\\n\\r\\n' + '\\r\\n'.join(lines) + '\\r\\n').encode()
s = smtplib.SMTP('127.0.0.1', port)
s.ehlo('client.example')
s.sendmail('bob@remote.example', ['alice@local.example'], msg)
s.quit()
print(len(msg), hashlib.sha256(msg).hexdigest())`,
    );
    const [size, digest] = out.trim().split(' ');
    expect(Number(size)).toBeGreaterThan(10_000_000);
    const message = await fx.db.message.findFirstOrThrow({ where: { subject: 'big' } });
    expect(sha(withoutOurReceived(await readMessageBuffer(fx.db, message.id)))).toBe(digest);
    // Stored as a handful of large chunks, not one row and not thousands.
    const chunks = await fx.db.messageChunk.count({ where: { messageId: message.id } });
    expect(chunks).toBeGreaterThan(10);
    expect(chunks).toBeLessThan(200);
  });

  it('answers 4xx, never 250, when PostgreSQL goes away mid-transaction, and accepts the next one when it is back', async () => {
    const flag = `/tmp/mx-pg-${randomBytes(4).toString('hex')}`;
    const client = import('node:child_process').then(({ spawn }) =>
      spawn('python3', [
        '-c',
        `import smtplib, os, time
s = smtplib.SMTP('127.0.0.1', ${port})
s.ehlo('client.example')
s.mail('bob@remote.example')
s.rcpt('alice@local.example')
open('${flag}.ready', 'w').close()
while not os.path.exists('${flag}.go'): time.sleep(0.02)
code, msg = s.data(b'Subject: pg\\r\\n\\r\\nwhile the database is down\\r\\n')
print(code, msg.decode())`,
      ]),
    );
    const child = await client;
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const { existsSync, writeFileSync } = await import('node:fs');
    while (!existsSync(`${flag}.ready`)) await new Promise((r) => setTimeout(r, 20));
    const before = await fx.db.message.count();
    await fx.postgres.stop();
    writeFileSync(`${flag}.go`, '');
    await new Promise((resolve) => child.on('close', resolve));
    expect(out).toMatch(/^451 4\.3\.0 /);
    await fx.postgres.start();
    expect(await fx.db.message.count()).toBe(before);
    const again = await swaks(
      port,
      ['--from', 'bob@remote.example', '--to', 'alice@local.example'],
      'Subject: after\r\n\r\nback\r\n',
    );
    expect(queued(again), again.output).toBeDefined();
  });
});
