/**
 * SMTP replies: the value type, the one formatter for single and multi-line replies, and
 * `SmtpError`, the error that already knows the reply it stands for.
 *
 * RFC 5321 §4.2:   Reply-line = *( Reply-code "-" [ textstring ] CRLF )
 *                               Reply-code [ SP textstring ] CRLF
 * RFC 2034 §3 / RFC 3463 §2: the enhanced status code `class.subject.detail` follows the reply
 * code on every line, and its class must equal the reply code's first digit (2, 4 or 5).
 */

/** One SMTP reply: a three-digit code, an optional enhanced status code and one or more lines. */
export interface SmtpReply {
  /** 200..599 (RFC 5321 §4.2.1). */
  readonly code: number;
  /** `class.subject.detail`, e.g. `5.5.1`; absent for replies that carry none (220, 334, 354, EHLO). */
  readonly enhanced?: string;
  /** Text of each line, without code and without CRLF; at least one (possibly empty) line. */
  readonly lines: readonly string[];
}

const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})$/;

/** Is this a syntactically valid RFC 3463 enhanced status code (`2.1.5`, `5.7.10`)? */
export function isEnhancedCode(value: string): boolean {
  return ENHANCED.test(value);
}

function checkText(line: string): void {
  // A reply line must not smuggle a line end or other control characters (RFC 5321 §4.2).
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) {
      throw new RangeError(`SMTP reply text must not contain control characters: ${JSON.stringify(line)}`);
    }
  }
}

/**
 * Build a validated reply. Throws `RangeError` on a programming error: code outside 200..599,
 * malformed enhanced code, or an enhanced class that differs from the code's first digit.
 */
export function smtpReply(
  code: number,
  enhanced: string | undefined,
  text: string | readonly string[],
): SmtpReply {
  if (!Number.isInteger(code) || code < 200 || code > 599) {
    throw new RangeError(`SMTP reply code must be 200..599, got ${code}`);
  }
  if (enhanced !== undefined) {
    const m = ENHANCED.exec(enhanced);
    if (!m) throw new RangeError(`malformed enhanced status code: ${enhanced}`);
    // RFC 3463 §3.1 / RFC 2034 §3: the class must match the reply's first digit.
    if (m[1] !== String(code)[0]) {
      throw new RangeError(`enhanced status class ${m[1]} does not match reply code ${code}`);
    }
  }
  const lines = typeof text === 'string' ? [text] : [...text];
  if (lines.length === 0) lines.push('');
  lines.forEach(checkText);
  return enhanced === undefined ? { code, lines } : { code, enhanced, lines };
}

/**
 * Render a reply for the wire: `250-first\r\n250-second\r\n250 last\r\n`. The enhanced code is
 * repeated on every line (RFC 2034 §3). An empty text still gets its space: `334 \r\n`, the
 * empty SASL challenge (RFC 4954 §4: continue-req = "334" SP [base64] CRLF).
 */
export function formatReply(reply: SmtpReply): string {
  const { code, enhanced, lines } = reply;
  let out = '';
  for (let i = 0; i < lines.length; i++) {
    const sep = i === lines.length - 1 ? ' ' : '-';
    const text = enhanced === undefined ? lines[i] : lines[i] === '' ? enhanced : `${enhanced} ${lines[i]}`;
    out += `${code}${sep}${text}\r\n`;
  }
  return out;
}

/** `formatReply` as UTF-8 bytes, ready to write to a socket. */
export function replyToBuffer(reply: SmtpReply): Buffer {
  return Buffer.from(formatReply(reply), 'utf8');
}

/**
 * The text of a reply on one line, for logs, errors and DSNs: the lines joined by a space and
 * trimmed (`250-smtp-sink` + `250 ` gives `smtp-sink`). Empty when the reply has no text.
 */
export function replyText(reply: Pick<SmtpReply, 'lines'>): string {
  return reply.lines.join(' ').trim();
}

/** Is the reply positive completion (2yz), intermediate (3yz), transient (4yz) or permanent (5yz)? */
export function replyClass(
  reply: Pick<SmtpReply, 'code'>,
): 'positive' | 'intermediate' | 'transient' | 'permanent' {
  const d = Math.floor(reply.code / 100);
  return d === 2 ? 'positive' : d === 3 ? 'intermediate' : d === 4 ? 'transient' : 'permanent';
}

/**
 * An SMTP failure that knows its reply (4yz or 5yz). Throw it or return it; the server renders it
 * with `toBuffer()`. Its `message` is the reply text and must never contain a secret.
 */
export class SmtpError extends Error {
  readonly reply: SmtpReply;

  constructor(
    code: number,
    enhanced: string | undefined,
    text: string | readonly string[],
    options?: ErrorOptions,
  ) {
    const reply = smtpReply(code, enhanced, text);
    if (code < 400) throw new RangeError(`SmtpError needs a 4yz or 5yz code, got ${code}`);
    super(reply.lines.join(' '), options);
    this.name = 'SmtpError';
    this.reply = reply;
  }

  /** Wrap an existing error reply. */
  static fromReply(reply: SmtpReply): SmtpError {
    return new SmtpError(reply.code, reply.enhanced, reply.lines);
  }

  get code(): number {
    return this.reply.code;
  }

  get enhanced(): string | undefined {
    return this.reply.enhanced;
  }

  /** The reply text (lines joined by a space). */
  get text(): string {
    return this.reply.lines.join(' ');
  }

  /** Permanent (5yz) rather than transient (4yz)? */
  get permanent(): boolean {
    return this.reply.code >= 500;
  }

  /** The reply as it goes on the wire, e.g. `503 5.5.1 Bad sequence of commands\r\n`. */
  toReplyString(): string {
    return formatReply(this.reply);
  }

  toBuffer(): Buffer {
    return replyToBuffer(this.reply);
  }
}
