/**
 * A complete DSN message (RFC 3464, RFC 3461 §6, RFC 6522), streamed:
 *
 *   multipart/report; report-type=delivery-status                       (RFC 6522 §3, RFC 3464 §2)
 *     1. text/plain            what happened, for a person
 *     2. message/delivery-status                                         (RFC 3464 §2.1)
 *     3. message/rfc822 (the whole original) or text/rfc822-headers (its header block)  (optional)
 *
 * For an SMTPUTF8 original, or a report with UTF-8 addresses, the report is the RFC 6533 one:
 * report-type=global-delivery-status, message/global-delivery-status, and message/global (RFC 6532
 * §3.7) or message/global-headers; the DSN must then be sent with SMTPUTF8.
 *
 * Which content goes back (RFC 3461 §4.3): the whole message only in a report of a failure, when
 * RET is not HDRS and the message is within `maxReturnSize`; otherwise the header block. A BINARYMIME
 * original (RFC 3030) also comes back as headers only: binary content cannot travel in DATA.
 * Headers: From MAILER-DAEMON, To the envelope sender, Auto-Submitted: auto-replied (RFC 3834 §5).
 * The envelope: MAIL FROM:<> (RFC 5321 §4.5.5, RFC 3461 §6.1), RCPT TO the original sender.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BodyType } from '@mta/smtp-protocol';
import { formatDate } from '../date';
import { foldHeader } from '../fold';
import { HeaderSplitter } from '../header-splitter';
import { generateMessageId } from '../message-id';
import { formatDeliveryStatus, needsGlobal, type DeliveryStatusInfo } from './delivery-status';
import { humanReadableText } from './human-text';
import { canSendDsn } from './notify';

/** Default `maxReturnSize`: originals above 1 MiB come back as headers only. */
export const DEFAULT_MAX_RETURN_SIZE = 1024 * 1024;

export interface OriginalMessage {
  /** The message as stored, CRLF lines (a `Readable` is an async iterable). */
  readonly content: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** Its size in octets. */
  readonly size: number;
  /** BODY= of the original transaction; unknown counts as 8BITMIME. */
  readonly body?: BodyType;
  /** The original transaction used SMTPUTF8. */
  readonly smtpUtf8?: boolean;
  /** Its Subject, decoded (`HeaderBlock.subject`), quoted in the text part. */
  readonly subject?: string;
}

export interface DsnOptions extends DeliveryStatusInfo {
  /** The original envelope sender: the DSN's recipient. Never `<>` (see `canSendDsn`). */
  readonly sender: string;
  /** RET of the original transaction (RFC 3461 §4.3). */
  readonly ret?: 'FULL' | 'HDRS';
  /** The original message; without it the report has two parts (RFC 6522 §3 allows it). */
  readonly original?: OriginalMessage;
  readonly maxReturnSize?: number;
  /** Limit for reading the original's header block (default: the splitter's, 1 MiB). */
  readonly maxHeaderBytes?: number;
  readonly date?: Date;
  readonly messageId?: string;
  /** MIME boundary (default: random). */
  readonly boundary?: string;
}

export interface ComposedDsn {
  /** MAIL FROM:<> and RCPT TO:<sender>. */
  readonly envelope: { readonly from: null; readonly to: string };
  readonly messageId: string;
  readonly subject: string;
  /** The DSN holds UTF-8 headers or addresses: send it with SMTPUTF8. */
  readonly smtpUtf8: boolean;
  /** The DSN holds 8-bit content: send it with BODY=8BITMIME. */
  readonly eightBit: boolean;
  /** What of the original is attached. */
  readonly returned: 'full' | 'headers' | 'none';
  /** The message, CRLF lines, ready for DATA (before dot-stuffing). */
  readonly stream: Readable;
}

export class NullSenderError extends Error {
  constructor() {
    super('no DSN for a message with a null reverse-path (RFC 5321 §4.5.5, RFC 3461 §6.1)');
    this.name = 'NullSenderError';
  }
}

function subjectFor(info: DeliveryStatusInfo): string {
  const actions = new Set(info.recipients.map((r) => r.action));
  if (actions.has('failed')) return 'Undelivered Mail Returned to Sender';
  if (actions.has('delayed')) return 'Delayed Mail (still being retried)';
  return 'Successful Mail Delivery Report';
}

async function* chunksOf(content: OriginalMessage['content']): AsyncGenerator<Buffer> {
  if (content instanceof Uint8Array) {
    yield Buffer.from(content.buffer, content.byteOffset, content.byteLength);
    return;
  }
  for await (const c of content) yield Buffer.isBuffer(c) ? c : Buffer.from(c);
}

/** Read just the header block of the original; stops reading (and closes a stream) after it. */
async function readHeaderBlock(
  content: OriginalMessage['content'],
  maxHeaderBytes?: number,
): Promise<Buffer> {
  const splitter = new HeaderSplitter({ maxHeaderBytes });
  for await (const chunk of chunksOf(content)) {
    const { header } = splitter.push(chunk);
    if (header) return header.raw;
  }
  return splitter.end().header?.raw ?? Buffer.alloc(0);
}

const isAscii = (b: Buffer): boolean => !b.some((x) => x > 0x7f);

/**
 * Build the DSN. Reads the original's header block first when only headers go back (so that
 * `eightBit` is known before sending); the rest streams. Throws `NullSenderError` for a `<>`
 * sender: check `canSendDsn` first.
 */
export async function composeDsn(o: DsnOptions): Promise<ComposedDsn> {
  if (!canSendDsn(o.sender)) throw new NullSenderError();
  const to = o.sender.trim().replace(/^<(.*)>$/, '$1');
  const original = o.original;
  const global = !!original?.smtpUtf8 || needsGlobal(o) || /[^\p{ASCII}]/u.test(to);
  const failed = o.recipients.some((r) => r.action === 'failed');
  const returned: ComposedDsn['returned'] = !original
    ? 'none'
    : failed &&
        o.ret !== 'HDRS' &&
        original.body !== 'BINARYMIME' &&
        original.size <= (o.maxReturnSize ?? DEFAULT_MAX_RETURN_SIZE)
      ? 'full'
      : 'headers';
  const fullEightBit = returned === 'full' && original?.body !== '7BIT';
  const boundary = o.boundary ?? `=_mta_${randomBytes(12).toString('hex')}`;
  const messageId = o.messageId ?? generateMessageId(o.reportingMta, o.date);
  const subject = subjectFor(o);
  const text = Buffer.from(
    humanReadableText({
      reportingMta: o.reportingMta,
      recipients: o.recipients,
      originalSubject: original?.subject,
      returned,
      truncatedForSize:
        returned === 'headers' && failed && o.ret !== 'HDRS' && original?.body !== 'BINARYMIME',
    }),
    'utf8',
  );
  const status = formatDeliveryStatus(o, global);
  const reportType = global ? 'global-delivery-status' : 'delivery-status';

  const headerBytes =
    returned === 'headers' && original
      ? await readHeaderBlock(original.content, o.maxHeaderBytes)
      : undefined;
  const eightBit = fullEightBit || (headerBytes !== undefined && !isAscii(headerBytes)) || global;

  async function* generate(): AsyncGenerator<Buffer> {
    const textCte = isAscii(text) ? '7bit' : eightBit ? '8bit' : 'base64';
    const head =
      `From: Mail Delivery System <MAILER-DAEMON@${o.reportingMta}>\r\n` +
      foldHeader('To', `<${to}>`) +
      `Subject: ${subject}\r\n` +
      `Date: ${formatDate(o.date ?? new Date())}\r\n` +
      `Message-ID: ${messageId}\r\n` +
      `Auto-Submitted: auto-replied\r\n` +
      `MIME-Version: 1.0\r\n` +
      foldHeader('Content-Type', [`multipart/report; report-type=${reportType};`, `boundary="${boundary}"`]) +
      (eightBit ? 'Content-Transfer-Encoding: 8bit\r\n' : '') +
      `\r\nThis is a MIME-encapsulated message.\r\n`;
    yield Buffer.from(head, 'utf8');
    yield Buffer.from(
      `\r\n--${boundary}\r\nContent-Description: Notification\r\n` +
        `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: ${textCte}\r\n\r\n`,
    );
    yield textCte === 'base64'
      ? Buffer.from(text.toString('base64').replace(/.{76}/g, '$&\r\n').replace(/\r\n$/, '') + '\r\n')
      : text;
    yield Buffer.from(
      `\r\n--${boundary}\r\nContent-Description: Delivery report\r\n` +
        `Content-Type: message/${reportType}\r\n${global ? 'Content-Transfer-Encoding: 8bit\r\n' : ''}\r\n${status}`,
      'utf8',
    );
    if (original && returned === 'full') {
      const type = global ? 'message/global' : 'message/rfc822';
      yield Buffer.from(
        `\r\n--${boundary}\r\nContent-Description: Undelivered Message\r\nContent-Type: ${type}\r\n` +
          `Content-Transfer-Encoding: ${fullEightBit ? '8bit' : '7bit'}\r\n\r\n`,
      );
      yield* chunksOf(original.content);
    } else if (headerBytes !== undefined) {
      const type = global ? 'message/global-headers' : 'text/rfc822-headers';
      const desc = failed ? 'Undelivered Message Headers' : 'Message Headers';
      yield Buffer.from(
        `\r\n--${boundary}\r\nContent-Description: ${desc}\r\nContent-Type: ${type}\r\n` +
          `Content-Transfer-Encoding: ${isAscii(headerBytes) ? '7bit' : '8bit'}\r\n\r\n`,
      );
      yield headerBytes;
    }
    yield Buffer.from(`\r\n--${boundary}--\r\n`);
  }

  return {
    envelope: { from: null, to },
    messageId,
    subject,
    smtpUtf8: global,
    eightBit,
    returned,
    stream: Readable.from(generate(), { objectMode: false }),
  };
}
