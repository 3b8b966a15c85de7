/**
 * Message-ID (RFC 5322 §3.6.4) and the fields a submission server adds (RFC 6409 §8):
 *
 *   msg-id  = [CFWS] "<" id-left "@" id-right ">" [CFWS]
 *   id-left = dot-atom-text / obs-id-left       id-right = dot-atom-text / no-fold-literal / obs-id-right
 *
 * §3.6.4: "the right-hand side ... a domain name", the left-hand side something unique on that
 * host: a timestamp and random bits, as RFC 5322 suggests.
 */
import { randomBytes } from 'node:crypto';
import { formatDate } from './date';
import type { HeaderBlock } from './header-block';

/** A new `<time.random@hostname>` msg-id: base-36 milliseconds, then 64 random bits in hex. */
export function generateMessageId(hostname: string, now: Date = new Date()): string {
  const host = hostname.trim().replace(/\.$/, '');
  if (!/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.\u0080-\uffff]+$/.test(host) && !/^\[[^[\]\\\s]*\]$/.test(host)) {
    throw new RangeError(`generateMessageId: not a host name: ${JSON.stringify(hostname)}`);
  }
  return `<${now.getTime().toString(36)}.${randomBytes(8).toString('hex')}@${host}>`;
}

const DOT_ATOM_TEXT =
  /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\uffff]+(?:\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\uffff]+)*$/;
const NO_FOLD_LITERAL = /^\[[\x21-\x5a\x5e-\x7e]*\]$/;

/**
 * The msg-id in a Message-ID field value, `<left@right>`, or undefined when the value is not a
 * valid msg-id (a comment before or after is allowed; obsolete quoted left-hand sides are not).
 */
export function parseMessageId(value: string): string | undefined {
  const text = value.replace(/\((?:[^()\\]|\\.)*\)/g, '').trim();
  const m = /^<([^<>@\s]+)@([^<>@\s]+)>$/.exec(text);
  if (!m) return undefined;
  const [, left, right] = m;
  if (!DOT_ATOM_TEXT.test(left)) return undefined;
  if (!DOT_ATOM_TEXT.test(right) && !NO_FOLD_LITERAL.test(right)) return undefined;
  return `<${left}@${right}>`;
}

export interface SubmissionFixOptions {
  /** Our host name, the right-hand side of a new Message-ID. */
  readonly hostname: string;
  /** The time for a new Date field (default: now). */
  readonly now?: Date;
  /** The zone for a new Date field, minutes east of UTC (default 0). */
  readonly offsetMinutes?: number;
}

/**
 * The header lines a message submission agent adds (RFC 6409 §8.2: add `Date` if the message
 * lacks it; §8.3: add `Message-ID` if it lacks it), CRLF-terminated, to be prepended.
 * A field that is present but malformed is left as it is: replacing it (which §8.3 allows) would
 * mean rewriting the block, and a second field would break RFC 5322 §3.6's "at most one".
 */
export function submissionHeaders(header: HeaderBlock, options: SubmissionFixOptions): string[] {
  const now = options.now ?? new Date();
  const lines: string[] = [];
  if (!header.has('message-id')) lines.push(`Message-ID: ${generateMessageId(options.hostname, now)}\r\n`);
  if (!header.has('date')) lines.push(`Date: ${formatDate(now, options.offsetMinutes ?? 0)}\r\n`);
  return lines;
}
