/**
 * The envelope of one message and the MAIL/RCPT command lines built from it, with
 * only the ESMTP parameters the peer announced (RFC 5321 §4.1.1.11 / RFC 1869 §6:
 * a client must not use an extension the server did not advertise).
 */
import {
  encodeXtext,
  hasEightBit,
  hasNonAscii,
  type EhloCapabilities,
  type NotifyCondition,
} from '@mta/smtp-protocol';

/** RFC 3461 §4.1 NOTIFY values. `NEVER` excludes the others. */
export type DsnNotify = NotifyCondition;

export interface Recipient {
  /** Forward-path mailbox, without angle brackets. */
  readonly address: string;
  /** RFC 3461 §4.1 */
  readonly notify?: readonly DsnNotify[];
  /** RFC 3461 §4.2 original recipient, sent as `rfc822;<xtext>`. */
  readonly orcpt?: string;
}

export interface DsnRequest {
  /** RFC 3461 §4.3 */
  readonly ret?: 'FULL' | 'HDRS';
  /** RFC 3461 §4.4 envelope identifier (printable ASCII). */
  readonly envid?: string;
}

/** What the MAIL command needs to know beyond the addresses. */
export interface MailParams {
  readonly size: number | null;
  readonly eightBit: boolean;
  readonly smtpUtf8: boolean;
  readonly requireTls: boolean;
  readonly dsn?: DsnRequest;
}

/** RFC 6531 §3.2: does this address need SMTPUTF8 (any non-ASCII character)? */
export function needsSmtpUtf8(address: string): boolean {
  return hasNonAscii(address);
}

/**
 * Does the header block (everything before the first empty line) hold a non-ASCII octet? RFC
 * 6532 headers are what make a message with ASCII addresses need SMTPUTF8. `data` may be just
 * the start of the message, as long as it reaches the end of the header block (or the end).
 */
export function headerHasNonAscii(data: Buffer): boolean {
  // A message that starts with the empty line has an empty header block.
  const end = data[0] === 0x0d && data[1] === 0x0a ? 0 : data.indexOf('\r\n\r\n');
  return hasEightBit(end === -1 ? data : data.subarray(0, end));
}

/** Refuse CR/LF/NUL in anything we paste into a command line (command injection). */
export function assertSafeAddress(address: string): void {
  if (/[\r\n<>]/.test(address) || address.includes('\0'))
    throw new TypeError(`unsafe character in address ${JSON.stringify(address)}`);
}

/** RFC 5321 §4.1.1.2 MAIL FROM:<reverse-path> [SP mail-parameters]. */
export function mailCommand(from: string, caps: EhloCapabilities, p: MailParams): string {
  const params: string[] = [];
  if (caps.size !== null && p.size !== null) params.push(`SIZE=${p.size}`); // RFC 1870 §6
  if (p.eightBit && caps.eightBitMime) params.push('BODY=8BITMIME'); // RFC 6152 §3
  if (p.smtpUtf8 && caps.smtpUtf8) params.push('SMTPUTF8'); // RFC 6531 §3.4
  if (p.requireTls && caps.requireTls) params.push('REQUIRETLS'); // RFC 8689 §3
  if (caps.dsn && p.dsn) {
    if (p.dsn.ret) params.push(`RET=${p.dsn.ret}`); // RFC 3461 §4.3
    if (p.dsn.envid) params.push(`ENVID=${encodeXtext(p.dsn.envid)}`); // RFC 3461 §4.4
  }
  return [`MAIL FROM:<${from}>`, ...params].join(' ');
}

/** RFC 5321 §4.1.1.3 RCPT TO:<forward-path> [SP rcpt-parameters]. */
export function rcptCommand(rcpt: Recipient, caps: EhloCapabilities): string {
  const params: string[] = [];
  if (caps.dsn) {
    if (rcpt.notify && rcpt.notify.length > 0) {
      const notify = rcpt.notify.includes('NEVER') ? ['NEVER'] : [...new Set(rcpt.notify)];
      params.push(`NOTIFY=${notify.join(',')}`); // RFC 3461 §4.1
    }
    if (rcpt.orcpt) params.push(`ORCPT=rfc822;${encodeXtext(rcpt.orcpt)}`); // RFC 3461 §4.2
  }
  return [`RCPT TO:<${rcpt.address}>`, ...params].join(' ');
}
