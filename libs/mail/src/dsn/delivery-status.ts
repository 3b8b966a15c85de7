/**
 * The machine-readable part of a DSN: `message/delivery-status` (RFC 3464 §2), or
 * `message/global-delivery-status` (RFC 6533) when addresses or texts need UTF-8.
 *
 *   delivery-status-content = per-message-fields 1*( CRLF per-recipient-fields )     (§2.1)
 *   per-message: Original-Envelope-Id (§2.2.1), Reporting-MTA (§2.2.2), Received-From-MTA (§2.2.4),
 *                Arrival-Date (§2.2.5)
 *   per-recipient: Original-Recipient (§2.3.1), Final-Recipient (§2.3.2), Action (§2.3.3),
 *                Status (§2.3.4), Remote-MTA (§2.3.5), Diagnostic-Code (§2.3.6),
 *                Last-Attempt-Date (§2.3.7), Final-Log-ID (§2.3.8), Will-Retry-Until (§2.3.9)
 *
 * Fields use header syntax (§2.1.1), folded like header fields. Addresses are `rfc822; a@b`; a
 * non-ASCII address is `utf-8; ...` (RFC 6533 §3): as is in a global report, else with
 * `\x{HEX}` escapes (utf-8-addr-xtext).
 */
import { isEnhancedCode } from '@mta/smtp-protocol';
import { formatDate } from '../date';
import { foldHeader } from '../fold';
import type { DsnAction } from './notify';

export interface DsnRecipient {
  /** The recipient as we tried it (RFC 3464 §2.3.2). */
  readonly finalRecipient: string;
  /** ORCPT as the client gave it (RFC 3461 §4.2): address type and decoded address. */
  readonly originalRecipient?: { readonly type: string; readonly address: string };
  readonly action: DsnAction;
  /** Enhanced status code `x.y.z` (RFC 3463), e.g. `5.1.1`. */
  readonly status: string;
  /** The remote MTA's host name (RFC 3464 §2.3.5), when one answered. */
  readonly remoteMta?: string;
  /** The remote reply as text, e.g. `550 5.1.1 user unknown` (written `smtp; ...`). */
  readonly diagnosticCode?: string;
  /** Diagnostic type, default `smtp` (RFC 3464 §2.3.6); `x-unix` etc. for local errors. */
  readonly diagnosticType?: string;
  readonly lastAttemptDate?: Date;
  /** For `delayed` only: when we give up (RFC 3464 §2.3.9). */
  readonly willRetryUntil?: Date;
  /** Our log or queue id for this recipient's delivery (RFC 3464 §2.3.8). */
  readonly finalLogId?: string;
}

export interface DeliveryStatusInfo {
  /** Our host name (RFC 3464 §2.2.2: `Reporting-MTA: dns; <name>`). */
  readonly reportingMta: string;
  /** The ENVID of the original transaction, xtext-decoded (RFC 3461 §4.4). */
  readonly envid?: string;
  /** The EHLO name or host of the client that handed us the message (RFC 3464 §2.2.4). */
  readonly receivedFromMta?: string;
  /** When we accepted the message (RFC 3464 §2.2.5). */
  readonly arrivalDate?: Date;
  readonly recipients: readonly DsnRecipient[];
}

const hasNonAscii = (s: string): boolean => /[^\p{ASCII}]/u.test(s);

/** Text for a field value: one line, no controls; non-ASCII as `?` unless the report is global. */
function clean(text: string, global: boolean): string {
  const oneLine = text.replace(/[\r\n\t]+/g, ' ').replace(/\p{Cc}/gu, '?');
  return global ? oneLine : oneLine.replace(/[^\p{ASCII}]/gu, '?');
}

/** RFC 6533 §3 utf-8-addr-xtext: QCHAR kept, anything else as `\x{HEX}`. */
function utf8AddrXtext(address: string): string {
  let out = '';
  for (const ch of address) {
    const cp = ch.codePointAt(0) as number;
    const qchar = cp >= 0x21 && cp <= 0x7e && ch !== '+' && ch !== '=' && ch !== '\\';
    out += qchar ? ch : `\\x{${cp.toString(16).toUpperCase()}}`;
  }
  return out;
}

/** `rfc822; a@b`, or the `utf-8` address type of RFC 6533 §3 for a non-ASCII address. */
export function addressField(address: string, global: boolean, type = 'rfc822'): string {
  const addr = address.replace(/^<|>$/g, '').replace(/[\p{Cc} ]/gu, '');
  if (!hasNonAscii(addr)) return `${type}; ${addr}`;
  return global ? `utf-8; ${addr}` : `utf-8; ${utf8AddrXtext(addr)}`;
}

/** Does the report need `message/global-delivery-status` (a UTF-8 address or text)? */
export function needsGlobal(info: DeliveryStatusInfo): boolean {
  return info.recipients.some(
    (r) =>
      hasNonAscii(r.finalRecipient) ||
      hasNonAscii(r.originalRecipient?.address ?? '') ||
      hasNonAscii(r.diagnosticCode ?? ''),
  );
}

function recipientFields(r: DsnRecipient, global: boolean): string {
  if (!isEnhancedCode(r.status)) throw new RangeError(`DSN status must be an x.y.z code, got ${r.status}`);
  let out = '';
  if (r.originalRecipient) {
    const type = r.originalRecipient.type.toLowerCase();
    out += foldHeader('Original-Recipient', addressField(r.originalRecipient.address, global, type));
  }
  out += foldHeader('Final-Recipient', addressField(r.finalRecipient, global));
  out += `Action: ${r.action}\r\n`;
  out += `Status: ${r.status}\r\n`;
  if (r.remoteMta) out += foldHeader('Remote-MTA', `dns; ${clean(r.remoteMta, global)}`);
  if (r.diagnosticCode) {
    const type = r.diagnosticType ?? 'smtp';
    out += foldHeader('Diagnostic-Code', `${type}; ${clean(r.diagnosticCode, global)}`);
  }
  if (r.lastAttemptDate) out += `Last-Attempt-Date: ${formatDate(r.lastAttemptDate)}\r\n`;
  if (r.finalLogId) out += foldHeader('Final-Log-ID', clean(r.finalLogId, global));
  if (r.action === 'delayed' && r.willRetryUntil)
    out += `Will-Retry-Until: ${formatDate(r.willRetryUntil)}\r\n`;
  return out;
}

/** The body of the `message/delivery-status` part: per-message fields, then one block per recipient. */
export function formatDeliveryStatus(info: DeliveryStatusInfo, global = needsGlobal(info)): string {
  if (info.recipients.length === 0)
    throw new RangeError('a DSN needs at least one recipient (RFC 3464 §2.1)');
  let out = '';
  if (info.envid !== undefined) out += foldHeader('Original-Envelope-Id', clean(info.envid, global));
  out += foldHeader('Reporting-MTA', `dns; ${clean(info.reportingMta, global)}`);
  if (info.receivedFromMta)
    out += foldHeader('Received-From-MTA', `dns; ${clean(info.receivedFromMta, global)}`);
  if (info.arrivalDate) out += `Arrival-Date: ${formatDate(info.arrivalDate)}\r\n`;
  for (const r of info.recipients) out += '\r\n' + recipientFields(r, global);
  return out;
}
