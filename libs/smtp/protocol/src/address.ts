/**
 * The address grammar of RFC 5321 §4.1.2, with the SMTPUTF8 extensions of RFC 6531 §3.3.
 *
 *   Path           = "<" [ A-d-l ":" ] Mailbox ">"
 *   A-d-l          = At-domain *( "," At-domain )   ; source route, accepted and ignored
 *   Mailbox        = Local-part "@" ( Domain / address-literal )
 *   Local-part     = Dot-string / Quoted-string
 *   Dot-string     = Atom *("."  Atom)
 *   Quoted-string  = DQUOTE *QcontentSMTP DQUOTE
 *   QcontentSMTP   = qtextSMTP / quoted-pairSMTP
 *   quoted-pairSMTP = %d92 %d32-126
 *   qtextSMTP      = %d32-33 / %d35-91 / %d93-126
 *   Domain         = sub-domain *("." sub-domain)
 *   sub-domain     = Let-dig [Ldh-str]
 * RFC 6531 §3.3: atext, qtextSMTP and sub-domain (as U-label) also admit UTF8-non-ascii.
 * RFC 5321 §4.5.3.1: local part ≤ 64 octets, domain ≤ 255 octets, path ≤ 256 octets.
 */
import { isAddressLiteral } from './address-literal';

/** A mailbox as given on the wire, source route removed. */
export interface Address {
  /** Local part exactly as written (quotes and quoted-pairs kept; it is case-sensitive, §2.4). */
  readonly local: string;
  /** Domain or address literal (`[192.0.2.1]`) as written; `''` only for the bare `<postmaster>`. */
  readonly domain: string;
  /** `local@domain` as written (or `postmaster` for the bare form). */
  readonly raw: string;
}

export const MAX_LOCAL_PART_OCTETS = 64;
export const MAX_DOMAIN_OCTETS = 255;
export const MAX_PATH_OCTETS = 256;
const MAX_LABEL_OCTETS = 63;

/** Why a path did not parse; the command parser maps these to replies. */
export type AddressFailure = 'syntax' | 'too-long' | 'non-ascii';

export type MailboxResult =
  { ok: true; address: Address } | { ok: false; failure: AddressFailure; detail: string };

/** The domain lower-cased, for comparisons and routing (domains are case-insensitive, §2.4). */
export function domainLower(address: Pick<Address, 'domain'>): string {
  return address.domain.toLowerCase();
}

/** The local part with quotes and quoted-pairs resolved: `"a\"b"` → `a"b`. */
export function localPartValue(local: string): string {
  if (!local.startsWith('"')) return local;
  return local.slice(1, -1).replace(/\\(.)/g, '$1');
}

/** Render an address for the wire, `<local@domain>`, `<>` for the null sender. */
export function formatPath(address: Address | null): string {
  return address === null ? '<>' : `<${address.raw}>`;
}

const octets = (s: string): number => Buffer.byteLength(s, 'utf8');

export function hasNonAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return true;
  return false;
}

// atext of RFC 5322 §3.2.3: ALPHA / DIGIT / "!#$%&'*+-/=?^_`{|}~"
const ATEXT_ASCII = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]$/;

function isAtext(ch: string, utf8: boolean): boolean {
  return ATEXT_ASCII.test(ch) || (utf8 && ch.charCodeAt(0) > 0x7f);
}

function isDotString(s: string, utf8: boolean): boolean {
  if (s === '' || s.startsWith('.') || s.endsWith('.') || s.includes('..')) return false;
  for (const ch of s) if (ch !== '.' && !isAtext(ch, utf8)) return false;
  return true;
}

/** Length of the Quoted-string starting at `s[start] === '"'`, or -1 if malformed. */
function quotedStringEnd(s: string, start: number, utf8: boolean): number {
  for (let i = start + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c === 0x5c) {
      const n = s.charCodeAt(i + 1);
      if (!(n >= 32 && n <= 126)) return -1; // quoted-pairSMTP = %d92 %d32-126
      i++;
      continue;
    }
    const qtext = (c >= 32 && c <= 126) || (utf8 && c > 0x7f);
    if (!qtext) return -1;
  }
  return -1;
}

const LDH_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;

/** `sub-domain = Let-dig [Ldh-str]`, or a U-label under SMTPUTF8 (RFC 6531 §3.3). */
function isLabel(label: string, utf8: boolean): boolean {
  if (label === '' || octets(label) > MAX_LABEL_OCTETS) return false;
  if (LDH_LABEL.test(label)) return true;
  if (!utf8 || !hasNonAscii(label)) return false;
  if (label.startsWith('-') || label.endsWith('-')) return false;
  // U-label: letters, digits and hyphen of any script; no ASCII punctuation, spaces or controls.
  return /^[\p{L}\p{M}\p{N}-]+$/u.test(label);
}

/** `Domain` of RFC 5321 §4.1.2 (not an address literal). Under `utf8`, U-labels are accepted. */
export function isDomain(domain: string, utf8 = false): boolean {
  if (domain === '' || octets(domain) > MAX_DOMAIN_OCTETS) return false;
  return domain.split('.').every((l) => isLabel(l, utf8));
}

/** `Domain / address-literal`, as after the `@` of a mailbox or as the EHLO argument. */
export function isDomainOrAddressLiteral(domain: string, utf8 = false): boolean {
  return domain.startsWith('[') ? isAddressLiteral(domain) : isDomain(domain, utf8);
}

/**
 * Parse `Mailbox` (no angle brackets). `utf8` says SMTPUTF8 applies (RFC 6531); without it any
 * non-ASCII character yields the `non-ascii` failure so the caller can answer 553 5.6.7.
 */
export function parseMailbox(text: string, utf8: boolean): MailboxResult {
  if (!utf8 && hasNonAscii(text)) return fail('non-ascii', 'non-ASCII address without SMTPUTF8');
  let at: number;
  if (text.startsWith('"')) {
    at = quotedStringEnd(text, 0, utf8);
    if (at < 0) return fail('syntax', 'malformed quoted local part');
    if (text[at] !== '@') return fail('syntax', 'expected @ after the local part');
  } else {
    at = text.indexOf('@');
    if (at < 0) return fail('syntax', 'missing @domain');
    if (!isDotString(text.slice(0, at), utf8)) return fail('syntax', 'invalid local part');
  }
  const local = text.slice(0, at);
  const domain = text.slice(at + 1);
  if (octets(local) > MAX_LOCAL_PART_OCTETS) return fail('too-long', 'local part longer than 64 octets');
  if (octets(domain) > MAX_DOMAIN_OCTETS) return fail('too-long', 'domain longer than 255 octets');
  if (!isDomainOrAddressLiteral(domain, utf8)) return fail('syntax', 'invalid domain');
  return { ok: true, address: { local, domain, raw: text } };
}

function fail(
  failure: AddressFailure,
  detail: string,
): { ok: false; failure: AddressFailure; detail: string } {
  return { ok: false, failure, detail };
}

/**
 * Find the `>` closing the path that opens at `s[start] === '<'`, skipping quoted strings (a
 * quoted local part may contain `>` and spaces). Returns the index after `>`, or -1.
 */
export function pathEnd(s: string, start: number): number {
  let inQuote = false;
  for (let i = start + 1; i < s.length; i++) {
    const c = s[i];
    if (inQuote) {
      if (c === '\\') i++;
      else if (c === '"') inQuote = false;
    } else if (c === '"') inQuote = true;
    else if (c === '>') return i + 1;
  }
  return -1;
}

/**
 * Strip an RFC 5321 source route (`@a,@b:` — A-d-l, §4.1.1.3 and Appendix C), checking each
 * at-domain. Returns the rest (the mailbox) or null if the route is malformed.
 */
function stripSourceRoute(inner: string, utf8: boolean): string | null {
  let i = 0;
  for (;;) {
    if (inner[i] !== '@') return null;
    let end: number;
    if (inner[i + 1] === '[') {
      end = inner.indexOf(']', i + 1) + 1;
      if (end === 0) return null;
    } else {
      end = i + 1;
      while (end < inner.length && inner[end] !== ',' && inner[end] !== ':') end++;
    }
    if (!isDomainOrAddressLiteral(inner.slice(i + 1, end), utf8)) return null;
    if (inner[end] === ':') return inner.slice(end + 1);
    if (inner[end] !== ',') return null;
    i = end + 1;
  }
}

export type PathResult =
  | { ok: true; address: Address | null; postmaster: boolean }
  | { ok: false; failure: AddressFailure; detail: string };

/** What a path may be: MAIL accepts `<>`, RCPT accepts the bare `<postmaster>`. */
export interface PathOptions {
  readonly kind: 'reverse' | 'forward';
  readonly utf8: boolean;
}

/**
 * Parse a whole `<...>` path (brackets included). MAIL: `Reverse-path = Path / "<>"`.
 * RCPT: `"<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path` (RFC 5321 §4.1.1.3),
 * `postmaster` matched case-insensitively.
 */
export function parsePath(path: string, options: PathOptions): PathResult {
  if (path.length < 2 || path[0] !== '<' || path[path.length - 1] !== '>') {
    return fail('syntax', 'address must be enclosed in <>');
  }
  if (octets(path) > MAX_PATH_OCTETS) return fail('too-long', 'path longer than 256 octets');
  let inner = path.slice(1, -1);
  if (inner === '') {
    return options.kind === 'reverse'
      ? { ok: true, address: null, postmaster: false }
      : fail('syntax', 'empty recipient');
  }
  if (options.kind === 'forward' && inner.toLowerCase() === 'postmaster') {
    return { ok: true, address: { local: inner, domain: '', raw: inner }, postmaster: true };
  }
  if (inner.startsWith('@')) {
    const rest = stripSourceRoute(inner, options.utf8);
    if (rest === null) return fail('syntax', 'malformed source route');
    inner = rest;
  }
  const r = parseMailbox(inner, options.utf8);
  if (!r.ok) return r;
  const postmaster =
    options.kind === 'forward' && localPartValue(r.address.local).toLowerCase() === 'postmaster';
  return { ok: true, address: r.address, postmaster };
}
