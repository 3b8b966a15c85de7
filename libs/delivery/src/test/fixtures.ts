/**
 * Messages and requests shared by the specs (test-only, not exported).
 */
import { createHash } from 'node:crypto';
import { bodyFromBuffer } from '../body';
import type { DeliveryRequest } from '../contract';

/** A CRLF message with a unique subject; the body has lines starting with dots (stuffing). */
export function message(
  subject: string,
  body = 'Hello.\r\n.leading dot\r\n..two dots\r\n.\r\nend\r\n',
): Buffer {
  return Buffer.from(
    `From: <sender@example.org>\r\nTo: <rcpt@example.net>\r\nDate: Thu, 26 Nov 2026 12:00:00 +0000\r\n` +
      `Subject: ${subject}\r\nMessage-ID: <${subject}@example.org>\r\n\r\n${body}`,
    'utf8',
  );
}

let next = 0;

/** A request for `addresses` (ids `r1`, `r2`, ...) with `body`. */
export function request(
  addresses: readonly string[],
  body: Buffer,
  extra: Partial<DeliveryRequest> = {},
): DeliveryRequest {
  return {
    messageId: `m${++next}`,
    envelope: { sender: 'sender@example.org' },
    recipients: addresses.map((address, i) => ({ id: `r${i + 1}`, address })),
    body: bodyFromBuffer(body),
    size: body.length,
    ...extra,
  };
}

export const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** What a peer that stores LF lines holds for a CRLF message. */
export const asLf = (b: Buffer): string => b.toString('latin1').replace(/\r\n/g, '\n');
