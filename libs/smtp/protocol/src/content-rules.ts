/**
 * One rule for the octets of a message, shared by DATA (`DataDecoder`) and BDAT (`BdatDecoder`),
 * so that a message cannot pass through one transfer that the other refuses:
 *
 * - NUL is never allowed (RFC 5322 §2.1 and §3.5: message text is %d1-127 plus UTF-8, RFC 6532;
 *   RFC 2045 §2.7-2.8: 7bit and 8bit data hold no NUL; we do not offer BINARYMIME). A receiver
 *   that strips NULs would read `\r\n\x00.\r\n` as the end of data; we refuse the message.
 * - A bare CR is never allowed (RFC 5321 §2.3.8): downstream parsers (Python's email package,
 *   many MUAs) take it as a line end, so `Subject: hi\rFrom: ceo@victim.test` would hide a
 *   second From from a header check that splits on CRLF.
 * - A bare LF (RFC 5321 §2.3.8 forbids it too) depends on the policy: `reject` refuses the
 *   message; `normalize` takes it as a line end and stores CRLF, like Postfix 3.9's
 *   `smtpd_forbid_bare_newline = normalize`. DATA still ends only at CRLF.CRLF.
 *
 * Errors are ranked so the reply does not depend on how the input was split into packets:
 * bare line ending, then NUL, then size, then line length.
 */
import type { SmtpError } from './reply';
import { Replies } from './replies';

/** What a bare LF in message content does (see above); bare CR and NUL are always refused. */
export type BareNewlinePolicy = 'reject' | 'normalize';
export const BARE_NEWLINE_POLICIES: readonly BareNewlinePolicy[] = ['reject', 'normalize'];

export const CR = 0x0d;
export const LF = 0x0a;
export const NUL = 0x00;
/** What a bare LF becomes under `normalize`. */
export const CRLF: Buffer = Buffer.from('\r\n');

/** Error ranks, most important first. */
export const Rank = {
  Bare: 0,
  Nul: 1,
  TooBig: 2,
  LineTooLong: 3,
  None: 4,
} as const;
export type Rank = (typeof Rank)[keyof typeof Rank];

/** The reply for a rank (built on demand: a flood of bad octets must not allocate an error each). */
export function rankError(
  rank: Rank,
  limits: { maxSize?: number; maxLineLength?: number },
): SmtpError | null {
  switch (rank) {
    case Rank.Bare:
      return Replies.bareLineEnding();
    case Rank.Nul:
      return Replies.nulInContent();
    case Rank.TooBig:
      return Replies.messageTooBig(limits.maxSize);
    case Rank.LineTooLong:
      return Replies.dataLineTooLong(limits.maxLineLength ?? 0);
    default:
      return null;
  }
}

/** The smallest of three `indexOf` results that is not -1, or -1 (no allocation: hot loops). */
export function firstOf(a: number, b: number, c: number): number {
  let p = a;
  if (b !== -1 && (p === -1 || b < p)) p = b;
  if (c !== -1 && (p === -1 || c < p)) p = c;
  return p;
}
