/**
 * Parse one SMTP command line (without its CRLF) into a typed command, or a failure that already
 * carries its reply. Verbs and keywords are case-insensitive (RFC 5321 §2.4).
 */
import { hasNonAscii, isDomainOrAddressLiteral, parsePath, pathEnd, type AddressFailure } from './address';
import type { SmtpCommand } from './command';
import { ALL_EXTENSIONS, type ActiveExtensions } from './extensions';
import { parseMailParams, parseRcptParams, splitParams } from './parameters';
import { SmtpError } from './reply';
import { Replies } from './replies';

/** RFC 5321 §4.5.3.1.4: a command line is at most 512 octets including CRLF. */
export const MAX_COMMAND_LINE_OCTETS = 512;

export interface ParseOptions {
  /** Extensions in force; parameters of others are refused with 555. Default: all. */
  readonly extensions?: ActiveExtensions;
  /**
   * The transaction's MAIL FROM carried SMTPUTF8, so RCPT may use UTF-8 addresses
   * (RFC 6531 §3.4). MAIL itself looks at its own SMTPUTF8 parameter.
   */
  readonly smtpUtf8?: boolean;
  /** Refuse longer lines (octets, without CRLF) with 500 5.5.2; default: no limit here. */
  readonly maxLineOctets?: number;
}

export type ParseResult =
  | { readonly ok: true; readonly command: SmtpCommand }
  | { readonly ok: false; readonly verb: string | null; readonly error: SmtpError };

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const VERB = /^[A-Za-z]+$/;
/** The longest domain name (RFC 1035 §2.3.4); address literals (RFC 5321 §4.1.3) are shorter. */
const MAX_HELO_OCTETS = 255;
/** RFC 4422 §3.1: sasl-mech = 1*20 of upper-case letters, digits, "-" and "_". */
const SASL_MECH = /^[A-Za-z0-9_-]{1,20}$/;
/** Known verbs we do not implement: answered 502 (RFC 5321 §4.2.4), not 500. */
const NOT_IMPLEMENTED = new Set(['EXPN', 'TURN', 'ETRN', 'ATRN', 'SEND', 'SOML', 'SAML', 'VERB']);

function failure(verb: string | null, error: SmtpError): ParseResult {
  return { ok: false, verb, error };
}

function ok(command: SmtpCommand): ParseResult {
  return { ok: true, command };
}

function decodeLine(line: string | Uint8Array): string | SmtpError {
  let text: string;
  if (typeof line === 'string') {
    text = line;
  } else {
    try {
      text = utf8Decoder.decode(line);
    } catch {
      return Replies.syntaxError('Invalid UTF-8 in command');
    }
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // No controls in a command line; CR and LF can only be framing (RFC 5321 §2.3.8).
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return Replies.syntaxError('Invalid character in command');
  }
  return text;
}

function addressError(verb: 'MAIL' | 'RCPT', failure: AddressFailure, detail: string): SmtpError {
  if (failure === 'non-ascii') return Replies.smtpUtf8Required();
  const text = `Bad ${verb === 'MAIL' ? 'sender' : 'recipient'} address syntax: ${detail}`;
  return verb === 'MAIL' ? Replies.badSenderSyntax(text) : Replies.badRecipientSyntax(text);
}

/**
 * `MAIL FROM:<path> params` / `RCPT TO:<path> params`. A space between the colon and `<` is
 * tolerated (as Postfix does); the path must be in angle brackets (RFC 5321 §4.1.1.2).
 */
function parseEnvelope(
  verb: 'MAIL' | 'RCPT',
  args: string,
  options: ParseOptions,
  ext: ActiveExtensions,
): ParseResult {
  const prefix = verb === 'MAIL' ? 'FROM:' : 'TO:';
  if (args.slice(0, prefix.length).toUpperCase() !== prefix) {
    return failure(verb, Replies.badArguments(`Syntax: ${verb} ${prefix}<address>`));
  }
  let i = prefix.length;
  while (args[i] === ' ') i++;
  if (args[i] !== '<') return failure(verb, addressError(verb, 'syntax', 'address must be enclosed in <>'));
  const end = pathEnd(args, i);
  if (end < 0) return failure(verb, addressError(verb, 'syntax', 'missing closing >'));
  const path = args.slice(i, end);
  const rest = args.slice(end);
  if (rest !== '' && rest[0] !== ' ')
    return failure(verb, Replies.badArguments('Expected a space after the address'));
  const raw = splitParams(rest);
  if (raw instanceof SmtpError) return failure(verb, raw);

  if (verb === 'MAIL') {
    const params = parseMailParams(raw, ext);
    if (params instanceof SmtpError) return failure(verb, params);
    const r = parsePath(path, { kind: 'reverse', utf8: params.smtpUtf8 });
    if (!r.ok) return failure(verb, addressError(verb, r.failure, r.detail));
    return ok({ verb, from: r.address, params });
  }
  const params = parseRcptParams(raw, ext);
  if (params instanceof SmtpError) return failure(verb, params);
  const r = parsePath(path, { kind: 'forward', utf8: options.smtpUtf8 === true });
  if (!r.ok) return failure(verb, addressError(verb, r.failure, r.detail));
  if (r.address === null) return failure(verb, addressError(verb, 'syntax', 'empty recipient'));
  return ok({ verb, to: r.address, postmaster: r.postmaster, params });
}

/** `BDAT chunk-size [ SP end-marker ]`, chunk-size = 1*DIGIT, end-marker = "LAST" (RFC 3030 §2). */
function parseBdat(args: string): ParseResult {
  const parts = args.split(' ').filter((p) => p !== '');
  const [size, marker, extra] = parts;
  // Up to 15 digits stays an exact JavaScript number; anything larger is refused as syntax.
  if (size === undefined || !/^\d{1,15}$/.test(size) || extra !== undefined) {
    return failure('BDAT', Replies.badArguments('Syntax: BDAT <size> [LAST]'));
  }
  if (marker !== undefined && marker.toUpperCase() !== 'LAST') {
    return failure('BDAT', Replies.badArguments('Syntax: BDAT <size> [LAST]'));
  }
  return ok({ verb: 'BDAT', size: Number(size), last: marker !== undefined });
}

/** `AUTH mechanism [initial-response]` (RFC 4954 §4). */
function parseAuth(args: string, ext: ActiveExtensions): ParseResult {
  const parts = args.split(' ').filter((p) => p !== '');
  const [mech, initial, extra] = parts;
  if (mech === undefined || extra !== undefined || !SASL_MECH.test(mech)) {
    return failure('AUTH', Replies.badArguments('Syntax: AUTH mechanism [initial-response]'));
  }
  const mechanism = mech.toUpperCase();
  // When AUTH is not offered at all, the session answers (502 / 530), not the parser.
  if (ext.auth.length > 0 && !ext.auth.includes(mechanism)) {
    return failure('AUTH', Replies.unknownAuthMechanism());
  }
  return ok(
    initial === undefined
      ? { verb: 'AUTH', mechanism }
      : { verb: 'AUTH', mechanism, initialResponse: initial },
  );
}

/**
 * Parse one command line. `line` is the bytes or text between the previous CRLF and this one.
 * UTF-8 is accepted only in MAIL/RCPT addresses under SMTPUTF8 (RFC 6531 §3.3); elsewhere a
 * non-ASCII argument is a syntax error.
 */
export function parseCommand(line: string | Uint8Array, options: ParseOptions = {}): ParseResult {
  const ext = options.extensions ?? ALL_EXTENSIONS;
  if (options.maxLineOctets !== undefined) {
    const n = typeof line === 'string' ? Buffer.byteLength(line, 'utf8') : line.length;
    if (n > options.maxLineOctets) return failure(null, Replies.lineTooLong());
  }
  const text = decodeLine(line);
  if (text instanceof SmtpError) return failure(null, text);
  const trimmed = text.replace(/[ \t]+$/, '');
  const sp = trimmed.indexOf(' ');
  const word = sp < 0 ? trimmed : trimmed.slice(0, sp);
  if (!VERB.test(word)) return failure(null, word === '' ? Replies.syntaxError() : Replies.unknownCommand());
  const verb = word.toUpperCase();
  const args = sp < 0 ? '' : trimmed.slice(sp + 1);

  if (verb !== 'MAIL' && verb !== 'RCPT' && hasNonAscii(args)) {
    return failure(verb, Replies.badArguments('Non-ASCII characters are only allowed in addresses'));
  }
  const noArgs = (bare: 'DATA' | 'RSET' | 'QUIT' | 'STARTTLS'): ParseResult =>
    args.trim() === ''
      ? ok({ verb: bare })
      : failure(bare, Replies.badArguments(`${bare} takes no arguments`));

  switch (verb) {
    case 'HELO':
    case 'EHLO': {
      // RFC 5321 §4.1.1.1: ehlo = "EHLO" SP ( Domain / address-literal ); helo = "HELO" SP Domain
      const domain = args.trim();
      if (domain === '') return failure(verb, Replies.badArguments(`${verb} requires a domain name`));
      // No domain is longer than 255 octets (RFC 1035 §2.3.4), nor any address literal (RFC 5321
      // §4.1.3): a longer name is refused, not carried into our Received field.
      if (Buffer.byteLength(domain, 'utf8') > MAX_HELO_OCTETS)
        return failure(
          verb,
          new SmtpError(501, '5.5.2', `${verb} name longer than ${MAX_HELO_OCTETS} octets`),
        );
      return ok({ verb, domain, domainValid: isDomainOrAddressLiteral(domain) });
    }
    case 'MAIL':
    case 'RCPT':
      return parseEnvelope(verb, args, options, ext);
    case 'DATA':
    case 'RSET':
    case 'QUIT':
    case 'STARTTLS': // RFC 3207 §4: no parameters
      return noArgs(verb);
    case 'BDAT':
      return parseBdat(args);
    case 'AUTH':
      return parseAuth(args, ext);
    case 'VRFY': {
      // RFC 5321 §4.1.1.6: vrfy = "VRFY" SP String
      const argument = args.trim();
      if (argument === '') return failure(verb, Replies.badArguments('VRFY requires an argument'));
      return ok({ verb, argument });
    }
    case 'NOOP':
    case 'HELP': {
      // RFC 5321 §4.1.1.8, §4.1.1.9: an optional string, ignored by NOOP
      const argument = args.trim();
      return ok(argument === '' ? { verb } : { verb, argument });
    }
    default:
      return failure(
        verb,
        NOT_IMPLEMENTED.has(verb) ? Replies.notImplemented(verb) : Replies.unknownCommand(),
      );
  }
}
