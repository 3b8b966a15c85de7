/**
 * Server side of the SASL mechanisms PLAIN (RFC 4616) and LOGIN (draft-murchison-sasl-login) as
 * small state machines over the AUTH exchange of RFC 4954 §4. They only decode: checking the
 * credentials is the caller's job. No error ever contains the password (or any credential).
 */
import { smtpReply, type SmtpError, type SmtpReply } from './reply';
import { Replies } from './replies';

/** RFC 4954 §4: a line of the AUTH exchange is at most 12288 octets (without CRLF). */
export const MAX_AUTH_LINE_OCTETS = 12288;
/** RFC 4616 §2: authzid, authcid and passwd are each at most 255 octets. */
const MAX_PLAIN_FIELD_OCTETS = 255;

export interface SaslCredentials {
  readonly mechanism: 'PLAIN' | 'LOGIN';
  /** Identity to act as (RFC 4616 authzid); `''` when not given. */
  readonly authorizationId: string;
  readonly username: string;
  readonly password: string;
}

export type SaslStep =
  | { readonly type: 'challenge'; readonly reply: SmtpReply }
  | { readonly type: 'done'; readonly credentials: SaslCredentials }
  | { readonly type: 'error'; readonly error: SmtpError };

export interface SaslMechanism {
  readonly name: 'PLAIN' | 'LOGIN';
  /** Start, with the initial response of `AUTH <mech> <ir>` if any (`=` means empty). */
  start(initialResponse?: string): SaslStep;
  /** The client's next line (without CRLF). `*` cancels (RFC 4954 §4). */
  next(line: string): SaslStep;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Strict base64 (RFC 4648 §4, padded, no whitespace); null when invalid. `''` decodes to empty. */
export function decodeBase64Strict(text: string): Buffer | null {
  return BASE64.test(text) ? Buffer.from(text, 'base64') : null;
}

function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

const challenge = (text: string): SaslStep => ({ type: 'challenge', reply: smtpReply(334, undefined, text) });
const error = (e: SmtpError): SaslStep => ({ type: 'error', error: e });
const malformed = (mech: string): SaslStep =>
  error(Replies.badArguments(`Malformed ${mech} authentication data`));

/** Common checks on a client line: length, cancel, base64. Returns the bytes or the error step. */
function decodeClientLine(line: string, initial: boolean): Buffer | SaslStep {
  if (Buffer.byteLength(line, 'utf8') > MAX_AUTH_LINE_OCTETS) return error(Replies.authLineTooLong());
  if (!initial && line === '*') return error(Replies.authCancelled()); // RFC 4954 §4
  if (initial && line === '=') return Buffer.alloc(0); // RFC 4954 §4: "=" is an empty initial response
  const bytes = decodeBase64Strict(line);
  return bytes ?? error(Replies.authBadBase64());
}

abstract class Mechanism implements SaslMechanism {
  abstract readonly name: 'PLAIN' | 'LOGIN';
  private finished = false;

  protected abstract begin(initial: Buffer | null): SaslStep;
  protected abstract step(bytes: Buffer): SaslStep;

  start(initialResponse?: string): SaslStep {
    if (initialResponse === undefined) return this.track(this.begin(null));
    const bytes = decodeClientLine(initialResponse, true);
    return this.track(Buffer.isBuffer(bytes) ? this.begin(bytes) : bytes);
  }

  next(line: string): SaslStep {
    if (this.finished) throw new Error(`SASL ${this.name}: next() after the exchange ended`);
    const bytes = decodeClientLine(line, false);
    return this.track(Buffer.isBuffer(bytes) ? this.step(bytes) : bytes);
  }

  private track(s: SaslStep): SaslStep {
    if (s.type !== 'challenge') this.finished = true;
    return s;
  }
}

/** PLAIN: message = [authzid] UTF8NUL authcid UTF8NUL passwd (RFC 4616 §2). */
export class SaslPlain extends Mechanism {
  readonly name = 'PLAIN';

  protected begin(initial: Buffer | null): SaslStep {
    // RFC 4954 §4: no initial response → empty challenge "334 ".
    return initial === null ? challenge('') : this.step(initial);
  }

  protected step(bytes: Buffer): SaslStep {
    const a = bytes.indexOf(0);
    const b = a < 0 ? -1 : bytes.indexOf(0, a + 1);
    if (b < 0 || bytes.indexOf(0, b + 1) >= 0) return malformed('PLAIN');
    const fields = [bytes.subarray(0, a), bytes.subarray(a + 1, b), bytes.subarray(b + 1)];
    if (fields.some((f) => f.length > MAX_PLAIN_FIELD_OCTETS)) return malformed('PLAIN');
    const [authorizationId, username, password] = fields.map(decodeUtf8);
    if (authorizationId == null || !username || !password) return malformed('PLAIN');
    return { type: 'done', credentials: { mechanism: 'PLAIN', authorizationId, username, password } };
  }
}

/** LOGIN: "334 VXNlcm5hbWU6" (Username:), then "334 UGFzc3dvcmQ6" (Password:). */
export class SaslLogin extends Mechanism {
  readonly name = 'LOGIN';
  private username: string | null = null;

  protected begin(initial: Buffer | null): SaslStep {
    // Many clients send the username as initial response (AUTH LOGIN <b64 user>).
    return initial === null ? challenge('VXNlcm5hbWU6') : this.step(initial);
  }

  protected step(bytes: Buffer): SaslStep {
    const text = decodeUtf8(bytes);
    if (text === null || text.includes('\0')) return malformed('LOGIN');
    if (this.username === null) {
      if (text === '') return malformed('LOGIN');
      this.username = text;
      return challenge('UGFzc3dvcmQ6');
    }
    return {
      type: 'done',
      credentials: { mechanism: 'LOGIN', authorizationId: '', username: this.username, password: text },
    };
  }
}

/** A fresh mechanism for `AUTH <name>`, or null if we do not implement it. */
export function createSaslMechanism(name: string): SaslMechanism | null {
  switch (name.toUpperCase()) {
    case 'PLAIN':
      return new SaslPlain();
    case 'LOGIN':
      return new SaslLogin();
    default:
      return null;
  }
}
