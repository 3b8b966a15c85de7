import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { simpleParser, type Attachment, type ParsedMail } from 'mailparser';
import { describe, expect, it } from 'vitest';
import {
  composeDsn,
  NullSenderError,
  type ComposedDsn,
  type DsnOptions,
  type OriginalMessage,
} from './compose';
import type { DsnRecipient } from './delivery-status';

const originalHeaders =
  'Received: from client.example.com by sub.example.com; Thu, 26 Nov 2026 14:59:00 +0000\r\n' +
  'From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: =?UTF-8?Q?Caf=C3=A9?= plans\r\n' +
  'Message-ID: <m1@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n' +
  'Content-Transfer-Encoding: 8bit\r\n';
const originalBody = 'Hi Bob,\r\n\r\nsee you at the caf\u00e9.\r\n-- \r\nAlice\r\n';
const original = Buffer.from(`${originalHeaders}\r\n${originalBody}`, 'utf8');

const baseOriginal: OriginalMessage = {
  content: original,
  size: original.length,
  body: '8BITMIME',
  subject: 'Café plans',
};

const failed: DsnRecipient = {
  finalRecipient: 'bob@example.org',
  originalRecipient: { type: 'RFC822', address: 'bob@example.org' },
  action: 'failed',
  status: '5.1.1',
  remoteMta: 'mx.example.net',
  diagnosticCode: '550 5.1.1 user unknown',
  lastAttemptDate: new Date('2026-11-26T15:59:00Z'),
};
const delayed: DsnRecipient = {
  finalRecipient: 'carol@example.net',
  action: 'delayed',
  status: '4.4.1',
  diagnosticCode: 'connect to mx.example.net[192.0.2.9]:25: Connection timed out',
  lastAttemptDate: new Date('2026-11-26T15:59:00Z'),
  willRetryUntil: new Date('2026-12-01T15:00:00Z'),
};

const base: DsnOptions = {
  sender: 'alice@example.com',
  reportingMta: 'mx.example.org',
  envid: 'ENV-42',
  arrivalDate: new Date('2026-11-26T15:00:00Z'),
  date: new Date('2026-11-26T16:00:00Z'),
  recipients: [failed],
  original: baseOriginal,
};

async function render(dsn: ComposedDsn): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of dsn.stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function parse(raw: Buffer): Promise<ParsedMail> {
  return simpleParser(raw, { keepDeliveryStatus: true });
}

/** The delivery-status body, each block parsed as a header block by mailparser too. */
async function statusBlocks(att: Attachment): Promise<Map<string, unknown>[]> {
  const blocks = att.content
    .toString('utf8')
    .split(/\r?\n\r?\n/)
    .filter((b) => b.trim() !== '');
  return Promise.all(
    blocks.map(async (b) => (await simpleParser(`${b}\r\n\r\n`)).headers as Map<string, unknown>),
  );
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
function byType(m: ParsedMail, type: string): Attachment {
  const found = m.attachments.find((a) => a.contentType === type);
  if (!found) throw new Error(`no ${type} part`);
  return found;
}

describe('composeDsn, read back by mailparser', () => {
  it('RET=FULL failure: three parts, headers, per-recipient fields, the original byte for byte', async () => {
    const dsn = await composeDsn({ ...base, ret: 'FULL' });
    expect(dsn).toMatchObject({
      envelope: { from: null, to: 'alice@example.com' },
      returned: 'full',
      eightBit: true,
      smtpUtf8: false,
    });
    const raw = await render(dsn);
    const m = await parse(raw);

    expect(m.from?.value).toEqual([
      { address: 'MAILER-DAEMON@mx.example.org', name: 'Mail Delivery System' },
    ]);
    expect(m.to && !Array.isArray(m.to) ? m.to.value.map((v) => v.address) : []).toEqual([
      'alice@example.com',
    ]);
    expect(m.subject).toBe('Undelivered Mail Returned to Sender');
    expect(m.messageId).toBe(dsn.messageId);
    expect(m.date?.toISOString()).toBe('2026-11-26T16:00:00.000Z');
    expect(m.headers.get('auto-submitted')).toBe('auto-replied');
    const ct = m.headers.get('content-type') as { value: string; params: Record<string, string> };
    expect(ct.value).toBe('multipart/report');
    expect(ct.params['report-type']).toBe('delivery-status');

    expect(m.text).toContain('could not be delivered');
    expect(m.text).toContain('<bob@example.org>');
    expect(m.text).toContain('550 5.1.1 user unknown');
    expect(m.text).toContain('What you can do:');
    expect(m.text).toContain('Subject of your message: Café plans');

    expect(m.attachments.map((a) => a.contentType)).toEqual(['message/delivery-status', 'message/rfc822']);
    const [perMessage, rcpt] = await statusBlocks(byType(m, 'message/delivery-status'));
    expect(perMessage.get('reporting-mta')).toBe('dns; mx.example.org');
    expect(perMessage.get('original-envelope-id')).toBe('ENV-42');
    expect(perMessage.get('arrival-date')).toBeDefined();
    expect(rcpt.get('final-recipient')).toBe('rfc822; bob@example.org');
    expect(rcpt.get('original-recipient')).toBe('rfc822; bob@example.org');
    expect(rcpt.get('action')).toBe('failed');
    expect(rcpt.get('status')).toBe('5.1.1');
    expect(rcpt.get('remote-mta')).toBe('dns; mx.example.net');
    expect(rcpt.get('diagnostic-code')).toBe('smtp; 550 5.1.1 user unknown');
    expect(rcpt.get('last-attempt-date')).toBeDefined();

    const returned = byType(m, 'message/rfc822');
    expect(sha(returned.content)).toBe(sha(original));
  });

  it('RET=HDRS: text/rfc822-headers with the header block only', async () => {
    const dsn = await composeDsn({ ...base, ret: 'HDRS' });
    expect(dsn.returned).toBe('headers');
    const raw = await render(dsn);
    expect(raw.toString()).not.toContain('see you at the');
    const m = await parse(raw);
    expect(m.attachments.map((a) => a.contentType)).toEqual([
      'message/delivery-status',
      'text/rfc822-headers',
    ]);
    expect(byType(m, 'text/rfc822-headers').content.toString()).toContain('Message-ID: <m1@example.com>');
    expect(m.text).toContain('The headers of your message are attached');
  });

  it('RET=FULL but over maxReturnSize: headers only, and the text says why', async () => {
    const dsn = await composeDsn({ ...base, ret: 'FULL', maxReturnSize: original.length - 1 });
    expect(dsn.returned).toBe('headers');
    const m = await parse(await render(dsn));
    expect(byType(m, 'text/rfc822-headers').contentType).toBe('text/rfc822-headers');
    expect(m.text).toContain('too large to be returned in full');
    const exact = await composeDsn({ ...base, maxReturnSize: original.length });
    expect(exact.returned).toBe('full');
  });

  it('a delay notice: its own subject, Will-Retry-Until, headers only even with RET=FULL', async () => {
    const dsn = await composeDsn({ ...base, ret: 'FULL', recipients: [delayed] });
    expect(dsn.subject).toBe('Delayed Mail (still being retried)');
    expect(dsn.returned).toBe('headers');
    const m = await parse(await render(dsn));
    expect(m.subject).toBe('Delayed Mail (still being retried)');
    expect(m.text).toContain('We will keep trying until Tue, 1 Dec 2026 15:00:00 +0000');
    const [, rcpt] = await statusBlocks(byType(m, 'message/delivery-status'));
    expect(rcpt.get('action')).toBe('delayed');
    expect(rcpt.get('will-retry-until')).toBeDefined();
  });

  it('several recipients: one block each, in order', async () => {
    const m = await parse(await render(await composeDsn({ ...base, recipients: [failed, delayed] })));
    const blocks = await statusBlocks(byType(m, 'message/delivery-status'));
    expect(blocks.slice(1).map((b) => [b.get('final-recipient'), b.get('action'), b.get('status')])).toEqual([
      ['rfc822; bob@example.org', 'failed', '5.1.1'],
      ['rfc822; carol@example.net', 'delayed', '4.4.1'],
    ]);
  });

  it('never composes a DSN for the null sender (RFC 5321 §4.5.5)', async () => {
    for (const sender of ['', '<>', ' <> ']) {
      await expect(composeDsn({ ...base, sender })).rejects.toBeInstanceOf(NullSenderError);
    }
  });

  it('an SMTPUTF8 original gives a global report (RFC 6533)', async () => {
    const dsn = await composeDsn({
      ...base,
      sender: 'jörg@example.de',
      recipients: [{ ...failed, finalRecipient: '用户@例子.广告', originalRecipient: undefined }],
      original: { ...baseOriginal, smtpUtf8: true },
    });
    expect(dsn.smtpUtf8).toBe(true);
    const raw = await render(dsn);
    expect(raw.toString()).toContain('report-type=global-delivery-status');
    const m = await parse(raw);
    expect(m.attachments.map((a) => a.contentType)).toEqual([
      'message/global-delivery-status',
      'message/global',
    ]);
    expect(m.attachments[0].content.toString('utf8')).toContain('Final-Recipient: utf-8; 用户@例子.广告');
    expect(sha(byType(m, 'message/global').content)).toBe(sha(original));
  });

  it('a 7-bit original and an ASCII report make a 7-bit DSN', async () => {
    const ascii = Buffer.from('From: a@example.com\r\nSubject: hi\r\n\r\nplain\r\n');
    const dsn = await composeDsn({ ...base, original: { content: ascii, size: ascii.length, body: '7BIT' } });
    expect(dsn.eightBit).toBe(false);
    const raw = await render(dsn);
    expect(raw.some((b) => b > 0x7f)).toBe(false);
    expect(raw.toString()).toMatch(/Content-Type: message\/rfc822\r\nContent-Transfer-Encoding: 7bit/);
  });

  it('base64-encodes a UTF-8 text part when the DSN is otherwise 7-bit', async () => {
    const ascii = Buffer.from('From: a@example.com\r\n\r\nplain\r\n');
    const dsn = await composeDsn({
      ...base,
      original: { content: ascii, size: ascii.length, body: '7BIT', subject: 'Café' },
    });
    const raw = await render(dsn);
    expect(raw.some((b) => b > 0x7f)).toBe(false);
    expect((await parse(raw)).text).toContain('Subject of your message: Café');
  });

  it('streams the original from a Readable, and reads only the headers for RET=HDRS', async () => {
    let pulled = 0;
    const body = Buffer.alloc(64 * 1024, 'x');
    async function* big(): AsyncGenerator<Buffer> {
      yield Buffer.from(originalHeaders + '\r\n');
      for (let i = 0; i < 1000; i++) {
        pulled++;
        yield body;
      }
    }
    const dsn = await composeDsn({
      ...base,
      ret: 'HDRS',
      original: { content: Readable.from(big()), size: 65_536_000 },
    });
    await render(dsn);
    expect(pulled).toBeLessThan(5);
    const full = Buffer.concat([Buffer.from(originalHeaders + '\r\n'), Buffer.alloc(100, 'y')]);
    const streamed = await composeDsn({
      ...base,
      original: { content: Readable.from([full.subarray(0, 50), full.subarray(50)]), size: full.length },
    });
    const m = await parse(await render(streamed));
    expect(sha(byType(m, 'message/rfc822').content)).toBe(sha(full));
  });

  it('without the original: two parts', async () => {
    const dsn = await composeDsn({ ...base, original: undefined });
    expect(dsn.returned).toBe('none');
    const m = await parse(await render(dsn));
    expect(m.attachments.map((a) => a.contentType)).toEqual(['message/delivery-status']);
  });

  it('keeps its own header lines within 78 characters', async () => {
    const raw = (await render(await composeDsn(base))).toString();
    const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
    for (const l of head.split('\r\n')) expect(l.length).toBeLessThanOrEqual(78);
  });
});
