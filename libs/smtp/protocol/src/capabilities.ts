/**
 * The client side of EHLO: a peer's 250 reply read back as a typed capability set (RFC 5321
 * §4.1.1.1: the first line is the greeting, each further line is `keyword [params]`, keywords
 * case-insensitive). The inverse of `ehloKeywords()` in extensions.ts, with the same shape.
 */
import type { ActiveExtensions } from './extensions';
import type { SmtpReply } from './reply';

/** The extensions a peer's EHLO reply advertised, and every keyword as sent. */
export interface EhloCapabilities extends ActiveExtensions {
  /** Every keyword, upper-case, with its parameters as sent. */
  readonly raw: ReadonlyMap<string, string>;
}

/** Parse a 250 EHLO reply (its first line is the server's name). */
export function parseEhloReply(reply: SmtpReply): EhloCapabilities {
  return parseCapabilityLines(reply.lines.slice(1));
}

/** Parse the keyword lines of an EHLO reply (without the first, greeting, line). */
export function parseCapabilityLines(lines: readonly string[]): EhloCapabilities {
  const raw = new Map<string, string>();
  const auth = new Set<string>();
  for (const line of lines) {
    const trimmed = line.trim();
    if (!trimmed) continue; // smtp-sink ends its list with an empty `250 ` line
    // Some old servers say `AUTH=LOGIN PLAIN` (pre-RFC 4954 drafts); accept both forms.
    const m = /^([A-Za-z0-9][A-Za-z0-9-]*)(?:[ =](.*))?$/.exec(trimmed);
    if (!m) continue;
    const keyword = m[1].toUpperCase();
    const params = (m[2] ?? '').trim();
    if (!raw.has(keyword)) raw.set(keyword, params);
    if (keyword === 'AUTH') for (const mech of params.split(/\s+/)) if (mech) auth.add(mech.toUpperCase());
  }
  return {
    pipelining: raw.has('PIPELINING'), // RFC 2920
    // RFC 1870 §4: `SIZE` with an optional fixed limit; 0 means "no fixed limit". null: not offered.
    size: raw.has('SIZE') ? parseSize(raw.get('SIZE') ?? '') : null,
    eightBitMime: raw.has('8BITMIME'), // RFC 6152
    smtpUtf8: raw.has('SMTPUTF8'), // RFC 6531
    startTls: raw.has('STARTTLS'), // RFC 3207
    auth: [...auth], // RFC 4954: mechanism names, upper-case; empty when AUTH is not offered
    dsn: raw.has('DSN'), // RFC 3461
    chunking: raw.has('CHUNKING'), // RFC 3030 (BDAT)
    // RFC 3030 §3: BINARYMIME is only usable with BDAT.
    binaryMime: raw.has('BINARYMIME') && raw.has('CHUNKING'),
    enhancedStatusCodes: raw.has('ENHANCEDSTATUSCODES'), // RFC 2034
    requireTls: raw.has('REQUIRETLS'), // RFC 8689
    raw,
  };
}

/** RFC 1870 §4: `SIZE [number]`; a missing or unparsable number means no announced limit. */
function parseSize(param: string): number {
  const n = /^\d+$/.test(param) ? Number(param) : 0;
  return Number.isSafeInteger(n) ? n : 0;
}
