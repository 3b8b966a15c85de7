/**
 * Interoperability with real SMTP clients nobody here wrote: swaks, Python's smtplib, OpenSSL's
 * s_client and nodemailer. Each checks the handler got exactly the bytes the client meant to send
 * (SHA-256 after dot-unstuffing).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '@mta/testing';
import { sha256, startHarness, type Harness } from './harness.testutil';

const run = promisify(execFile);
let h: Harness;
let plain: number;
let implicit: number;
const dir = mkdtempSync(path.join(os.tmpdir(), 'smtp-interop-'));
const users: Record<string, string> = { alice: 'pass word s3cret!' };

beforeAll(async () => {
  const cert = await selfSignedCertificate(['localhost']);
  h = await startHarness(
    { tls: { key: cert.key, cert: cert.cert }, maxBadCommands: 5 },
    [{}, { implicitTls: true }],
    {
      onAuth: (_s, c) => users[c.username] === c.password,
    },
  );
  [plain, implicit] = h.ports;
});
afterAll(() => h.close());

/** The message that arrived after `before` messages, checked against what the client meant. */
function lastMessage(before: number) {
  expect(h.messages.length).toBe(before + 1);
  return h.messages[before];
}

const BODY_LF =
  'Subject: interop\n\n.leading dot stays one dot\n..two dots\nline with trailing space \n\nlast line\n';
const BODY_CRLF = BODY_LF.replace(/\n/g, '\r\n');

describe('swaks', () => {
  const file = path.join(dir, 'swaks.eml');
  writeFileSync(file, BODY_LF);
  const swaks = (...args: string[]) =>
    run(
      'swaks',
      ['--server', '127.0.0.1', '--from', 'a@x.org', '--to', 'b@y.org', '--data', `@${file}`, ...args],
      {
        timeout: 20_000,
      },
    );

  it.each([
    ['plain', [] as string[], 'ESMTP', null],
    ['--pipeline', ['--pipeline'], 'ESMTP', null],
    ['--tls (STARTTLS)', ['--tls'], 'ESMTPS', 'starttls'],
    ['--tlsc (implicit TLS)', ['--tlsc'], 'ESMTPS', 'implicit'],
    [
      '--tls --auth PLAIN',
      ['--tls', '--auth', 'PLAIN', '--auth-user', 'alice', '--auth-password', users.alice],
      'ESMTPSA',
      'starttls',
    ],
    [
      '--tlsc --auth LOGIN --pipeline',
      ['--tlsc', '--pipeline', '--auth', 'LOGIN', '--auth-user', 'alice', '--auth-password', users.alice],
      'ESMTPSA',
      'implicit',
    ],
  ])('%s', async (_name, args, protocol, tlsMode) => {
    const before = h.messages.length;
    const port = args.includes('--tlsc') ? implicit : plain;
    await swaks('--port', String(port), ...args);
    const m = lastMessage(before);
    // swaks always ends the data with CRLF "." CRLF after the file's own last CRLF.
    expect(m.body.toString()).toBe(BODY_CRLF + '\r\n');
    expect(m.sha256).toBe(sha256(BODY_CRLF + '\r\n'));
    expect(m.session.protocol).toBe(protocol);
    expect(m.session.tls?.mode ?? null).toBe(tlsMode);
  });

  it('a wrong password is refused (535) and nothing is queued', async () => {
    const before = h.messages.length;
    await expect(
      swaks(
        '--port',
        String(plain),
        '--tls',
        '--auth',
        'PLAIN',
        '--auth-user',
        'alice',
        '--auth-password',
        'nope',
      ),
    ).rejects.toMatchObject({ stdout: expect.stringContaining('535 5.7.8') });
    expect(h.messages.length).toBe(before);
  });
});

describe("Python's smtplib", () => {
  const script = `
import smtplib, ssl, sys
port, mode, utf8 = int(sys.argv[1]), sys.argv[2], sys.argv[4] == 'utf8'
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
msg = sys.stdin.buffer.read()
if mode == 'implicit':
    s = smtplib.SMTP_SSL('127.0.0.1', port, context=ctx)
else:
    s = smtplib.SMTP('127.0.0.1', port)
    s.ehlo(); s.starttls(context=ctx); s.ehlo()
s.login('alice', sys.argv[3])
if utf8:
    s.sendmail('jörg@bücher.example', ['ñoño@exämple.org'], msg, mail_options=['SMTPUTF8', 'BODY=8BITMIME'])
else:
    s.sendmail('a@x.org', ['b@y.org', 'c@y.org'], msg)
s.quit()
`;
  const py = (port: number, mode: 'implicit' | 'starttls', input: Buffer, utf8 = false) =>
    new Promise<void>((resolve, reject) => {
      const p = spawn('python3', ['-c', script, String(port), mode, users.alice, utf8 ? 'utf8' : 'ascii'], {
        stdio: ['pipe', 'inherit', 'pipe'],
      });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(err))));
      p.stdin.end(input);
    });

  it('STARTTLS, AUTH, sendmail to two recipients', async () => {
    const before = h.messages.length;
    await py(plain, 'starttls', Buffer.from(BODY_CRLF));
    const m = lastMessage(before);
    expect(m.sha256).toBe(sha256(BODY_CRLF));
    expect(m.envelope.recipients.map((r) => r.address.raw)).toEqual(['b@y.org', 'c@y.org']);
    expect(m.session.user).toBe('alice');
  });

  it('implicit TLS, SMTPUTF8 addresses and an 8-bit body', async () => {
    const before = h.messages.length;
    const body = Buffer.from('Subject: =?utf-8?q?gr=C3=BC=C3=9Fe?=\r\n\r\nGrüße aus Köln — ☃\r\n', 'utf8');
    await py(implicit, 'implicit', body, true);
    const m = lastMessage(before);
    expect(m.sha256).toBe(sha256(body));
    expect(m.envelope.mailFrom?.raw).toBe('jörg@bücher.example');
    expect(m.envelope.recipients[0].address.raw).toBe('ñoño@exämple.org');
    expect(m.envelope.mailParams.smtpUtf8).toBe(true);
    expect(m.envelope.protocol).toBe('UTF8SMTPSA');
  });
});

describe('openssl s_client', () => {
  const sClient = (args: string[], input: string) =>
    new Promise<string>((resolve, reject) => {
      const p = spawn('openssl', ['s_client', '-quiet', '-crlf', ...args], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.on('error', reject);
      p.on('close', () => resolve(out));
      // s_client reads stdin only once the TLS session is up.
      p.stdin.end(input);
      const t = setTimeout(() => p.kill(), 15_000);
      p.on('close', () => clearTimeout(t));
    });

  it.each([
    ['-starttls smtp', () => ['-starttls', 'smtp', '-connect', `127.0.0.1:${plain}`], 'starttls'],
    ['implicit TLS', () => ['-connect', `127.0.0.1:${implicit}`], 'implicit'],
  ])('%s', async (_n, args, mode) => {
    const before = h.messages.length;
    const out = await sClient(
      args(),
      'EHLO openssl.test\nMAIL FROM:<a@x.org>\nRCPT TO:<b@y.org>\nDATA\nSubject: s_client\n\n..hi\n.\nQUIT\n',
    );
    expect(out).toMatch(/250 2\.0\.0 OK: queued as/);
    expect(out).toMatch(/221 2\.0\.0/);
    const m = lastMessage(before);
    expect(m.body.toString()).toBe('Subject: s_client\r\n\r\n.hi\r\n');
    expect(m.session.tls?.mode).toBe(mode);
  });
});

describe('nodemailer as a client', () => {
  const raw = Buffer.from(
    BODY_CRLF +
      'x'.repeat(990) +
      '\r\n' +
      '.\r\n'.repeat(3) +
      Buffer.alloc(300_000, 'abcdefghij\r\n').toString(),
  );

  it.each([
    ['STARTTLS + AUTH', () => plain, false, true],
    ['implicit TLS + AUTH', () => implicit, true, true],
    ['plain, no AUTH', () => plain, false, false],
  ])('%s', async (_n, port, secure, withAuth) => {
    const before = h.messages.length;
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: port(),
      secure,
      ignoreTLS: !withAuth,
      tls: { rejectUnauthorized: false },
      ...(withAuth ? { auth: { user: 'alice', pass: users.alice } } : {}),
    });
    const info = await transport.sendMail({ envelope: { from: 'a@x.org', to: ['b@y.org'] }, raw });
    transport.close();
    expect(info.response).toMatch(/^250 2\.0\.0 OK: queued as Q\d+/);
    const m = lastMessage(before);
    expect(m.body.length).toBe(raw.length);
    expect(m.sha256).toBe(sha256(raw));
    expect(m.session.user).toBe(withAuth ? 'alice' : null);
  });

  it('a composed message with attachments arrives intact', async () => {
    const before = h.messages.length;
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: plain,
      tls: { rejectUnauthorized: false },
    });
    const built: Buffer[] = [];
    const mail = {
      from: 'a@x.org',
      to: 'b@y.org',
      subject: 'attachments',
      text: '.starts with a dot\n.\nend',
      attachments: [{ filename: 'a.bin', content: Buffer.alloc(100_000, 7) }],
      messageId: '<fixed@x.org>',
      date: new Date(0),
    };
    const composed = await new Promise<Buffer>((resolve, reject) =>
      nodemailer
        .createTransport({ streamTransport: true, buffer: true, newline: 'windows' })
        .sendMail(mail, (err, info) => (err ? reject(err) : resolve(info.message as Buffer))),
    );
    built.push(composed);
    await transport.sendMail({ envelope: { from: 'a@x.org', to: ['b@y.org'] }, raw: composed });
    transport.close();
    expect(lastMessage(before).sha256).toBe(sha256(built[0]));
  });
});
