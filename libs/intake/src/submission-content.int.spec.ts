/**
 * Issue 17, items 1, 6, 9, 10, end to end with real sockets, PostgreSQL and Redis: what a client
 * sends by DATA or BDAT (raw, through Python's smtplib so nothing is repaired on the way), what
 * we answer, and what Python's email parser reads in whatever we stored. A header From we did
 * not check must never reach a reader.
 */
import { readMessageBuffer } from '@mta/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intakeFixture, type IntakeFixture } from './testing/intake-fixture';
import { python } from './testing/peers';

const OWNED = ['alice@local.example', 'sales@local.example'];
type Transfer = 'DATA' | 'BDAT';

/** One transaction, the content sent byte for byte (DATA: followed by `.\r\n`). */
async function send(
  port: number,
  transfer: Transfer,
  content: string,
  opts: { submission: boolean },
): Promise<string> {
  const b64 = Buffer.from(content, 'latin1').toString('base64');
  const login = opts.submission
    ? `s.starttls(context=ssl._create_unverified_context())
s.ehlo('client.example')
s.login('alice@local.example', 'correct horse battery staple')
s.mail('alice@local.example')
s.rcpt('friend@remote.example')`
    : `s.mail('someone@remote.example')
s.rcpt('alice@local.example')`;
  const out = await python(
    port,
    `import base64
body = base64.b64decode('${b64}')
s = smtplib.SMTP('127.0.0.1', port)
s.ehlo('client.example')
${login}
if '${transfer}' == 'BDAT':
    s.send(b'BDAT %d LAST\\r\\n' % len(body) + body)
else:
    assert s.docmd('DATA')[0] == 354
    s.send(body + b'.\\r\\n')
code, msg = s.getreply()
print(code, msg.decode())
print(s.noop()[0])`,
  );
  const [reply, noop] = out.trim().split('\n');
  expect(noop, 'the session is still in sync').toBe('250');
  return reply ?? '';
}

/** Every From and Sender address Python's email package reads in a stored message. */
async function pythonAuthors(stored: Buffer): Promise<string[]> {
  const out = await python(
    0,
    `import base64, email, email.utils, json
m = email.message_from_bytes(base64.b64decode('${stored.toString('base64')}'))
fields = [str(v) for v in (m.get_all('From') or []) + (m.get_all('Sender') or [])]
print(json.dumps([a.lower() for _, a in email.utils.getaddresses(fields)]))`,
  );
  return JSON.parse(out) as string[];
}

describe('message content and header From on submission and mx (DATA and BDAT alike)', () => {
  let fx: IntakeFixture;
  const ports: Record<'submission' | 'mx' | 'submissionReject' | 'mxReject', number> = {
    submission: 0,
    mx: 0,
    submissionReject: 0,
    mxReject: 0,
  };

  beforeAll(async () => {
    fx = await intakeFixture();
    ports.submission = (await fx.start('submission')).ports[0] as number;
    ports.mx = (await fx.start('mx')).ports[0] as number;
    const reject = { SMTP_BARE_NEWLINE: 'reject' };
    ports.submissionReject = (await fx.start('submission', reject)).ports[0] as number;
    ports.mxReject = (await fx.start('mx', reject)).ports[0] as number;
  });
  afterAll(() => fx?.close());

  async function stored(reply: string): Promise<Buffer> {
    const queueId = /queued as ([0-9A-Z]{16})/.exec(reply)?.[1];
    expect(queueId, reply).toBeDefined();
    const message = await fx.db.message.findUniqueOrThrow({ where: { queueId } });
    return readMessageBuffer(fx.db, message.id);
  }

  const FROM_ALICE = 'From: Alice <alice@local.example>\r\n';
  // [name, content, expected reply (start)]
  const SUBMISSION: [string, string, string][] = [
    ['a clean message', `${FROM_ALICE}Subject: hi\r\n\r\nHello\r\n`, '250 '],
    [
      'a bare CR hiding a second From',
      `${FROM_ALICE}Subject: hi\rFrom: ceo@local.example\r\n\r\nHello\r\n`,
      '550 5.5.2 ',
    ],
    [
      'a bare LF making a second From (normalized, then checked)',
      `${FROM_ALICE}Subject: hi\nFrom: ceo@local.example\r\n\r\nHello\r\n`,
      '553 5.7.1 From: <ceo@local.example> not owned',
    ],
    [
      'text after the From address',
      'From: <alice@local.example> ceo@local.example\r\nSubject: hi\r\n\r\nHello\r\n',
      '553 5.1.7 From: not a valid mailbox list (text after the address)',
    ],
    [
      'an address as display name',
      'From: alice@local.example <ceo@local.example>\r\nSubject: hi\r\n\r\nHello\r\n',
      '553 5.1.7 ',
    ],
    [
      'two owned authors without Sender',
      'From: alice@local.example, sales@local.example\r\nSubject: hi\r\n\r\nHello\r\n',
      '550 5.6.0 From holds several mailboxes',
    ],
    [
      'two owned authors with an owned Sender',
      'From: alice@local.example, sales@local.example\r\nSender: alice@local.example\r\nSubject: hi\r\n\r\nHello\r\n',
      '250 ',
    ],
    [
      'two owned authors with a foreign Sender',
      'From: alice@local.example, sales@local.example\r\nSender: ceo@local.example\r\nSubject: hi\r\n\r\nHello\r\n',
      '553 5.7.1 Sender: <ceo@local.example> not owned',
    ],
    [
      'an owned and a foreign author',
      'From: alice@local.example, ceo@local.example\r\nSender: alice@local.example\r\n\r\nHello\r\n',
      '553 5.7.1 From: <ceo@local.example> not owned',
    ],
    ['a second From field', `${FROM_ALICE}From: ceo@local.example\r\n\r\nHello\r\n`, '553 5.7.1 '],
    // Python's email splits header lines at CR, LF and CRLF only (checked below on what is stored).
    [
      'a vertical tab or form feed is no line end',
      `${FROM_ALICE}Subject: hi\x0bFrom: ceo@local.example\x0c\r\n\r\nHello\r\n`,
      '250 ',
    ],
    ['a NUL in the body', `${FROM_ALICE}\r\nHel\x00lo\r\n`, '550 5.6.0 '],
    ['a NUL before a dot line', `${FROM_ALICE}\r\nHello\r\n\x00.\r\nmore\r\n`, '550 5.6.0 '],
  ];

  describe.each<Transfer>(['DATA', 'BDAT'])('submission by %s', (transfer) => {
    it.each(SUBMISSION)('%s', async (_name, content, expected) => {
      const reply = await send(ports.submission, transfer, content, { submission: true });
      expect(reply.startsWith(expected), reply).toBe(true);
      if (!reply.startsWith('250')) return;
      const message = await stored(reply);
      expect(message.includes(0)).toBe(false);
      for (const author of await pythonAuthors(message)) expect(OWNED).toContain(author);
    });
  });

  // SMTP_BARE_NEWLINE, per listener kind and transfer: [port, content, reply, stored body]
  describe.each<Transfer>(['DATA', 'BDAT'])('SMTP_BARE_NEWLINE by %s', (transfer) => {
    const content = `${FROM_ALICE}Subject: lf\n\nline one\nline two\r\n`;
    it.each([
      ['submission', 'normalize'],
      ['mx', 'normalize'],
      ['submissionReject', 'reject'],
      ['mxReject', 'reject'],
    ] as const)('%s (%s)', async (listener, policy) => {
      const submission = listener.startsWith('submission');
      const reply = await send(ports[listener], transfer, content, { submission });
      if (policy === 'reject') {
        expect(reply).toBe('550 5.5.2 Message contains bare CR or LF; lines must end with CRLF');
        return;
      }
      expect(reply).toMatch(/^250 /);
      const text = (await stored(reply)).toString('latin1');
      expect(text).toContain('\r\nSubject: lf\r\n\r\nline one\r\nline two\r\n');
      expect(text.replaceAll('\r\n', '')).not.toMatch(/[\r\n]/); // only CRLF line ends stored
    });
  });
});
