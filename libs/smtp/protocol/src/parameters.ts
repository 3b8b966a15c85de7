/**
 * ESMTP parameters of MAIL and RCPT (RFC 1869 §4.1, RFC 5321 §4.1.2):
 *
 *   esmtp-param   = esmtp-keyword ["=" esmtp-value]
 *   esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
 *   esmtp-value   = 1*(%d33-60 / %d62-126)   ; RFC 6531 §3.3 adds UTF8-non-ascii
 *
 * Keywords are case-insensitive; a keyword given twice is refused (501 5.5.4); a keyword we do
 * not know, or whose extension is not in force, is refused with 555 5.5.4 (RFC 5321 §4.1.1.11).
 */
import { parseMailbox, type Address } from './address';
import type { BodyType, MailParams, NotifyCondition, OriginalRecipient, RcptParams } from './command';
import type { ActiveExtensions } from './extensions';
import type { SmtpError } from './reply';
import { Replies } from './replies';
import { decodeXtext } from './xtext';

const KEYWORD = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
/** RFC 3461 §4.4: ENVID is at most 100 characters. */
export const MAX_ENVID_LENGTH = 100;
/** RFC 1870 §3: size-value = 1*20DIGIT. */
const SIZE_VALUE = /^\d{1,20}$/;

export interface RawParam {
  readonly keyword: string;
  readonly value: string | undefined;
}

function isEsmtpValue(value: string): boolean {
  if (value === '') return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 33 && c <= 60) || (c >= 62 && c <= 126) || c > 0x7f)) return false;
  }
  return true;
}

/** Split `KEY=value KEY2` into keywords (upper-cased) and values; refuses bad syntax and duplicates. */
export function splitParams(text: string): RawParam[] | SmtpError {
  const out: RawParam[] = [];
  const seen = new Set<string>();
  for (const token of text.split(' ')) {
    if (token === '') continue; // tolerate several spaces between parameters
    const eq = token.indexOf('=');
    const keyword = (eq < 0 ? token : token.slice(0, eq)).toUpperCase();
    const value = eq < 0 ? undefined : token.slice(eq + 1);
    if (!KEYWORD.test(keyword)) return Replies.badArguments('Malformed parameter');
    if (value !== undefined && !isEsmtpValue(value))
      return Replies.badArguments(`Malformed value for ${keyword}`);
    if (seen.has(keyword)) return Replies.badArguments(`Duplicate parameter ${keyword}`);
    seen.add(keyword);
    out.push({ keyword, value });
  }
  return out;
}

function needValue(p: RawParam): string | SmtpError {
  return p.value === undefined ? Replies.badArguments(`${p.keyword} requires a value`) : p.value;
}

function noValue(p: RawParam): SmtpError | null {
  return p.value === undefined ? null : Replies.badArguments(`${p.keyword} takes no value`);
}

const isError = (v: unknown): v is SmtpError => v instanceof Error;

/** AUTH=<mailbox> or AUTH=<>, xtext-encoded (RFC 4954 §5). */
function parseAuthParam(value: string): Address | null | SmtpError {
  const decoded = decodeXtext(value);
  if (decoded === null || !decoded.startsWith('<') || !decoded.endsWith('>')) {
    return Replies.badArguments('AUTH parameter must be an xtext-encoded <mailbox> or <>');
  }
  if (decoded === '<>') return null;
  const r = parseMailbox(decoded.slice(1, -1), false);
  return r.ok ? r.address : Replies.badArguments('AUTH parameter must be an xtext-encoded <mailbox> or <>');
}

/** MAIL FROM parameters under the extensions in force. */
export function parseMailParams(params: readonly RawParam[], ext: ActiveExtensions): MailParams | SmtpError {
  let size: number | undefined;
  let body: BodyType | undefined;
  let smtpUtf8 = false;
  let ret: 'FULL' | 'HDRS' | undefined;
  let envid: string | undefined;
  let requireTls = false;
  let auth: Address | null | undefined;
  for (const p of params) {
    switch (p.keyword) {
      case 'SIZE': {
        // RFC 1870 §3
        if (ext.size === null) return Replies.unknownParameter(p.keyword);
        const v = needValue(p);
        if (isError(v)) return v;
        if (!SIZE_VALUE.test(v)) return Replies.badArguments('SIZE must be a number of octets');
        size = Number(v);
        break;
      }
      case 'BODY': {
        // RFC 6152 §2 (7BIT, 8BITMIME), RFC 3030 §3 (BINARYMIME)
        const v = needValue(p);
        if (isError(v)) return v;
        const upper = v.toUpperCase();
        if (upper === '7BIT' || upper === '8BITMIME') {
          if (!ext.eightBitMime && !ext.binaryMime) return Replies.unknownParameter(p.keyword);
        } else if (upper === 'BINARYMIME') {
          if (!ext.binaryMime) return Replies.unknownParameter(`${p.keyword}=BINARYMIME`);
        } else {
          return Replies.badArguments('BODY must be 7BIT, 8BITMIME or BINARYMIME');
        }
        body = upper;
        break;
      }
      case 'SMTPUTF8': {
        // RFC 6531 §3.4
        if (!ext.smtpUtf8) return Replies.unknownParameter(p.keyword);
        const e = noValue(p);
        if (e) return e;
        smtpUtf8 = true;
        break;
      }
      case 'RET': {
        // RFC 3461 §4.3
        if (!ext.dsn) return Replies.unknownParameter(p.keyword);
        const v = needValue(p);
        if (isError(v)) return v;
        const upper = v.toUpperCase();
        if (upper !== 'FULL' && upper !== 'HDRS') return Replies.badArguments('RET must be FULL or HDRS');
        ret = upper;
        break;
      }
      case 'ENVID': {
        // RFC 3461 §4.4
        if (!ext.dsn) return Replies.unknownParameter(p.keyword);
        const v = needValue(p);
        if (isError(v)) return v;
        const decoded = decodeXtext(v);
        if (decoded === null || v.length > MAX_ENVID_LENGTH)
          return Replies.badArguments('ENVID must be xtext of at most 100 characters');
        envid = decoded;
        break;
      }
      case 'REQUIRETLS': {
        // RFC 8689 §4.1
        if (!ext.requireTls) return Replies.unknownParameter(p.keyword);
        const e = noValue(p);
        if (e) return e;
        requireTls = true;
        break;
      }
      case 'AUTH': {
        // RFC 4954 §5
        if (ext.auth.length === 0) return Replies.unknownParameter(p.keyword);
        const v = needValue(p);
        if (isError(v)) return v;
        const a = parseAuthParam(v);
        if (isError(a)) return a;
        auth = a;
        break;
      }
      default:
        return Replies.unknownParameter(p.keyword);
    }
  }
  return {
    smtpUtf8,
    requireTls,
    ...(size !== undefined && { size }),
    ...(body !== undefined && { body }),
    ...(ret !== undefined && { ret }),
    ...(envid !== undefined && { envid }),
    ...(auth !== undefined && { auth }),
  };
}

/** NOTIFY = "NEVER" / 1#( "SUCCESS" / "FAILURE" / "DELAY" ) (RFC 3461 §4.1). */
function parseNotify(value: string): NotifyCondition[] | SmtpError {
  const items = value.toUpperCase().split(',');
  const seen = new Set<string>();
  for (const item of items) {
    if (item !== 'NEVER' && item !== 'SUCCESS' && item !== 'FAILURE' && item !== 'DELAY') {
      return Replies.badArguments('NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY');
    }
    if (seen.has(item)) return Replies.badArguments(`NOTIFY lists ${item} twice`);
    seen.add(item);
  }
  if (seen.has('NEVER') && items.length > 1) return Replies.badArguments('NOTIFY=NEVER cannot be combined');
  return items as NotifyCondition[];
}

/** ORCPT = addr-type ";" xtext, addr-type = atom (RFC 3461 §4.2). */
function parseOrcpt(value: string): OriginalRecipient | SmtpError {
  const semi = value.indexOf(';');
  const type = semi < 0 ? '' : value.slice(0, semi);
  const address = semi < 0 ? null : decodeXtext(value.slice(semi + 1));
  if (!/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+$/.test(type) || address === null || address === '') {
    return Replies.badArguments('ORCPT must be addr-type;xtext');
  }
  return { type: type.toUpperCase(), address, raw: value };
}

/** RCPT TO parameters under the extensions in force. */
export function parseRcptParams(params: readonly RawParam[], ext: ActiveExtensions): RcptParams | SmtpError {
  let notify: NotifyCondition[] | undefined;
  let orcpt: OriginalRecipient | undefined;
  for (const p of params) {
    if ((p.keyword !== 'NOTIFY' && p.keyword !== 'ORCPT') || !ext.dsn)
      return Replies.unknownParameter(p.keyword);
    const v = needValue(p);
    if (isError(v)) return v;
    if (p.keyword === 'NOTIFY') {
      const n = parseNotify(v);
      if (isError(n)) return n;
      notify = n;
    } else {
      const o = parseOrcpt(v);
      if (isError(o)) return o;
      orcpt = o;
    }
  }
  return { ...(notify !== undefined && { notify }), ...(orcpt !== undefined && { orcpt }) };
}
