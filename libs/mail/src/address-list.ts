/**
 * A small parser for the address fields of RFC 5322 §3.4 (From, Sender, Reply-To, To, Cc), good
 * enough to pull out the addr-specs, with their display names, as the intake's policy checks need
 * them. Lenient on input, as RFC 5322 §4 (obsolete syntax) asks:
 *
 *   address-list  = address *("," address)          mailbox-list = mailbox *("," mailbox)
 *   address       = mailbox / group                 group = display-name ":" [group-list] ";"
 *   mailbox       = name-addr / addr-spec           name-addr = [display-name] angle-addr
 *   angle-addr    = [CFWS] "<" addr-spec ">" [CFWS]  (obs-angle-addr: "<" obs-route addr-spec ">")
 *   addr-spec     = local-part "@" domain           domain = dot-atom / domain-literal
 *   comment       = "(" *([FWS] ccontent) [FWS] ")" (nested, quoted-pairs)
 *
 * RFC 6532 §3.2: atext and qtext also admit UTF-8, so non-ASCII letters are atom characters here.
 * Comments are skipped (an old-style `addr (Full Name)` comment becomes the name when there is no
 * display name). Entries without a local part, an `@` and a domain are left out.
 *
 * `parseMailboxListStrict` is the other side, for what we vouch for (submission's From and
 * Sender, RFC 5322 §3.6.2): a mailbox-list and nothing else, or the reason it is not one. mx
 * keeps the lenient parser: what others send is read, not judged.
 */
import { decodeEncodedWords } from './encoded-word';

export interface Mailbox {
  /** Display name, RFC 2047 encoded-words decoded; undefined when there is none. */
  readonly name?: string;
  /** `local@domain` with the local part as written (quotes kept) and the domain lower-cased. */
  readonly address: string;
  /** The local part as written (`"john doe"` keeps its quotes): it is case-sensitive. */
  readonly local: string;
  /** The domain, lower-cased (domains are case-insensitive, RFC 5321 §2.4). */
  readonly domain: string;
  /** The group's display name when the mailbox was inside a group (RFC 5322 §3.4). */
  readonly group?: string;
}

type Special = '<' | '>' | '@' | ',' | ':' | ';';
type Token =
  | { readonly kind: 'atom'; readonly text: string }
  | { readonly kind: 'quoted'; readonly text: string; readonly raw: string; readonly closed: boolean }
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'comment'; readonly text: string }
  | { readonly kind: 'special'; readonly text: Special };

const SPECIALS = '<>@,:;';
const STOP = '()<>[]:;@,"';

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const ch = s[i];
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') {
      i++;
    } else if (SPECIALS.includes(ch)) {
      out.push({ kind: 'special', text: ch as Special });
      i++;
    } else if (ch === '"') {
      let text = '';
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) {
        if (s[j] === '\\' && j + 1 < s.length) j++; // quoted-pair (RFC 5322 §3.2.1)
        text += s[j];
      }
      out.push({ kind: 'quoted', text, raw: s.slice(i, j + 1), closed: j < s.length });
      i = j + 1;
    } else if (ch === '(') {
      let depth = 0;
      let text = '';
      let j = i;
      for (; j < s.length; j++) {
        const c = s[j];
        if (c === '\\' && j + 1 < s.length) text += s[++j];
        else if (c === '(' && depth++ > 0) text += c;
        else if (c === ')' && --depth > 0) text += c;
        else if (c !== '(' && c !== ')') text += c;
        if (depth === 0) break;
      }
      out.push({ kind: 'comment', text: text.trim() });
      i = j + 1;
    } else if (ch === '[') {
      const close = s.indexOf(']', i);
      const end = close < 0 ? s.length : close + 1;
      out.push({ kind: 'literal', text: s.slice(i, end) });
      i = end;
    } else {
      let j = i;
      while (j < s.length && !STOP.includes(s[j]) && !/\s/.test(s[j])) j++;
      if (j === i) j++; // a stray ")" or "]": take it as text
      out.push({ kind: 'atom', text: s.slice(i, j) });
      i = j;
    }
  }
  return out;
}

/** The display name of a phrase: words joined by a space, encoded-words decoded. */
function phraseText(words: readonly Token[]): string | undefined {
  let text = '';
  words.forEach((t, i) => {
    const spaced = i > 0 && t.kind !== 'special' && words[i - 1].kind !== 'special';
    text += (spaced ? ' ' : '') + t.text;
  });
  text = text.trim();
  return text === '' ? undefined : decodeEncodedWords(text);
}

function addrSpec(tokens: readonly Token[]): { local: string; domain: string } | undefined {
  let at = -1;
  tokens.forEach((t, i) => {
    if (t.kind === 'special' && t.text === '@') at = i;
  });
  if (at <= 0 || at === tokens.length - 1) return undefined;
  const localTokens = tokens.slice(0, at);
  const domainTokens = tokens.slice(at + 1);
  if (localTokens.some((t) => t.kind !== 'atom' && t.kind !== 'quoted')) return undefined;
  if (domainTokens.some((t) => t.kind !== 'atom' && t.kind !== 'literal')) return undefined;
  const local = localTokens.map((t) => (t.kind === 'quoted' ? t.raw : t.text)).join('');
  const domain = domainTokens
    .map((t) => t.text)
    .join('')
    .toLowerCase();
  return { local, domain };
}

/**
 * Parse an address-list or mailbox-list field value (From, To, Cc, Reply-To, Sender) into its
 * mailboxes, in order. Never throws; malformed entries are skipped.
 */
export function parseMailboxList(value: string): Mailbox[] {
  const tokens = tokenize(value);
  const out: Mailbox[] = [];
  let phrase: Token[] = [];
  let comments: string[] = [];
  let group: string | undefined;
  let done = false; // an angle-addr was read: ignore the rest up to the next ","

  const add = (spec: { local: string; domain: string } | undefined, name: string | undefined): void => {
    if (!spec) return;
    out.push({
      ...(name !== undefined && { name }),
      address: `${spec.local}@${spec.domain}`,
      local: spec.local,
      domain: spec.domain,
      ...(group !== undefined && { group }),
    });
  };
  const flush = (): void => {
    // A bare addr-spec; an old-style trailing comment is its name: `jdoe@example.org (John Doe)`.
    if (!done && phrase.length > 0) add(addrSpec(phrase), comments.length ? comments.join(' ') : undefined);
    phrase = [];
    comments = [];
    done = false;
  };

  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind === 'comment') {
      if (t.text !== '') comments.push(t.text);
    } else if (t.kind === 'special' && t.text === '<') {
      const inner: Token[] = [];
      for (i++; i < tokens.length && !(tokens[i].kind === 'special' && tokens[i].text === '>'); i++) {
        if (tokens[i].kind !== 'comment') inner.push(tokens[i]);
      }
      // obs-route (RFC 5322 §4.4): "@a,@b:" before the addr-spec is dropped.
      const colon = inner.findIndex((x) => x.kind === 'special' && x.text === ':');
      const spec = addrSpec(colon >= 0 && inner[0]?.text === '@' ? inner.slice(colon + 1) : inner);
      if (!done) add(spec, phraseText(phrase) ?? (comments.length ? comments.join(' ') : undefined));
      phrase = [];
      done = true;
    } else if (t.kind === 'special' && t.text === ':' && group === undefined && !done) {
      group = phraseText(phrase) ?? '';
      phrase = [];
      comments = [];
    } else if (t.kind === 'special' && t.text === ';') {
      flush();
      group = undefined;
    } else if (t.kind === 'special' && t.text === ',') {
      flush();
    } else if (!done) {
      phrase.push(t);
    }
  }
  flush();
  return out;
}

/** The lower-cased domains of the mailboxes, without duplicates, in order. */
export function mailboxDomains(mailboxes: readonly Mailbox[]): string[] {
  return [...new Set(mailboxes.map((m) => m.domain))];
}

/** A strict parse: exactly the mailboxes written, or why the value is not a mailbox-list. */
export type StrictMailboxList =
  { readonly ok: true; readonly mailboxes: Mailbox[] } | { readonly ok: false; readonly reason: string };

const isSpecial = (t: Token | undefined, ch: Special): boolean => t?.kind === 'special' && t.text === ch;

/**
 * One mailbox of a mailbox-list (RFC 5322 §3.4): `addr-spec` or `[display-name] "<" addr-spec ">"`,
 * comments already removed. Returns the mailbox or the reason it is not one.
 */
function strictMailbox(entry: readonly Token[]): Mailbox | string {
  const lt = entry.findIndex((t) => isSpecial(t, '<'));
  if (lt < 0) {
    const spec = addrSpec(entry);
    if (!spec) return 'not an address';
    return { address: `${spec.local}@${spec.domain}`, local: spec.local, domain: spec.domain };
  }
  const phrase = entry.slice(0, lt);
  // display-name = phrase = 1*word (RFC 5322 §3.2.5): atoms and quoted strings only.
  if (phrase.some((t) => t.kind !== 'atom' && t.kind !== 'quoted'))
    return 'a display name holds an address or a special character';
  const gt = entry.findIndex((t, i) => i > lt && isSpecial(t, '>'));
  if (gt < 0) return 'an unterminated "<"';
  // RFC 5322 §3.4: angle-addr = [CFWS] "<" addr-spec ">" [CFWS]: nothing may follow it.
  if (gt !== entry.length - 1) return 'text after the address';
  const inner = entry.slice(lt + 1, gt);
  const colon = inner.findIndex((x) => isSpecial(x, ':'));
  const spec = addrSpec(colon >= 0 && isSpecial(inner[0], '@') ? inner.slice(colon + 1) : inner);
  if (!spec) return 'not an address';
  const name = phraseText(phrase);
  return {
    ...(name !== undefined && { name }),
    address: `${spec.local}@${spec.domain}`,
    local: spec.local,
    domain: spec.domain,
  };
}

/**
 * Parse a mailbox-list (From, RFC 5322 §3.6.2; a Sender is a list of one) strictly: every entry a
 * whole mailbox, no group (`:`/`;`), no text after an address, at least one mailbox. Empty
 * entries (`a@x, , b@y`) are skipped as obs-mbox-list allows (RFC 5322 §4.4).
 */
export function parseMailboxListStrict(value: string): StrictMailboxList {
  const tokens = tokenize(value).filter((t) => t.kind !== 'comment');
  if (tokens.some((t) => t.kind === 'quoted' && !t.closed))
    return { ok: false, reason: 'an unterminated quoted string' };
  const entries: Token[][] = [[]];
  let inAngle = false;
  for (const t of tokens) {
    if (isSpecial(t, '<')) inAngle = true;
    if (isSpecial(t, '>')) inAngle = false;
    // ":" and ";" outside "<...>" make a group (RFC 5322 §3.4), which From and Sender cannot hold.
    if (!inAngle && (isSpecial(t, ':') || isSpecial(t, ';')))
      return { ok: false, reason: 'a group is not a mailbox' };
    if (isSpecial(t, ',') && !inAngle) entries.push([]);
    else entries[entries.length - 1].push(t);
  }
  const mailboxes: Mailbox[] = [];
  for (const entry of entries) {
    if (entry.length === 0) continue;
    const m = strictMailbox(entry);
    if (typeof m === 'string') return { ok: false, reason: m };
    mailboxes.push(m);
  }
  if (mailboxes.length === 0) return { ok: false, reason: 'no mailbox' };
  return { ok: true, mailboxes };
}
