/**
 * Incremental reader of server replies, for clients (RFC 5321 §4.2.1): bytes in, complete
 * replies out.
 *
 * A reply is one or more lines `code-text` ending with one line `code SP text` or
 * just `code`. Every line of one reply must carry the same code. Lines end with
 * CRLF; a bare LF is tolerated on input (be liberal in what you accept from a peer,
 * it cannot smuggle anything into a reply we only read).
 *
 * The replies are not validated like `smtpReply()`: their text is the peer's, as sent.
 */
import type { SmtpReply } from './reply';

/** RFC 5321 §4.5.3.1.5 sets 512 octets per reply line; we allow slack for chatty servers. */
export const MAX_REPLY_LINE = 4096;
/** Upper bound on one multi-line reply (e.g. a long EHLO list). */
export const MAX_REPLY_LINES = 200;

export class ReplyProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplyProtocolError';
  }
}

const LINE = /^(\d{3})(?:([ -])(.*))?$/s;

export class ReplyReader {
  private buffer = '';
  private pendingCode: number | null = null;
  private pendingLines: string[] = [];

  /**
   * Feed bytes; returns the replies completed by them (possibly none).
   * Throws ReplyProtocolError on a malformed line: the session cannot recover.
   */
  push(chunk: Buffer | string): SmtpReply[] {
    // latin1 keeps every byte; replies are ASCII, and UTF-8 text (RFC 6531 §3.7.1)
    // is decoded per line below.
    this.buffer += typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    const out: SmtpReply[] = [];
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) !== -1) {
      let line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      const reply = this.line(Buffer.from(line, 'latin1').toString('utf8'));
      if (reply) out.push(reply);
    }
    if (this.buffer.length > MAX_REPLY_LINE) throw new ReplyProtocolError('reply line too long');
    return out;
  }

  /** True when bytes of an unfinished reply are buffered. */
  hasPartial(): boolean {
    return this.buffer.length > 0 || this.pendingCode !== null;
  }

  private line(line: string): SmtpReply | null {
    if (line.length > MAX_REPLY_LINE) throw new ReplyProtocolError('reply line too long');
    const m = LINE.exec(line);
    if (!m) throw new ReplyProtocolError(`malformed reply line: ${JSON.stringify(line.slice(0, 80))}`);
    const code = Number(m[1]);
    if (code < 200 || code > 599) throw new ReplyProtocolError(`reply code out of range: ${code}`);
    if (this.pendingCode !== null && this.pendingCode !== code) {
      throw new ReplyProtocolError(
        `reply code changed within a multi-line reply (${this.pendingCode} → ${code})`,
      );
    }
    this.pendingCode = code;
    this.pendingLines.push(m[3] ?? '');
    if (this.pendingLines.length > MAX_REPLY_LINES) throw new ReplyProtocolError('multi-line reply too long');
    if (m[2] === '-') return null;
    const reply = receivedReply(code, this.pendingLines);
    this.pendingCode = null;
    this.pendingLines = [];
    return reply;
  }
}

/**
 * RFC 3463 §2: `class "." subject "." detail`, class 2, 4 or 5, subject and detail
 * 1-3 digits. RFC 2034 §3 puts it first in the text of each line, followed by a space.
 * We only accept it when its class agrees with the reply code's first digit
 * (RFC 3463 §2: "the class ... MUST be consistent with the reply code").
 */
const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})(?:\s+|$)/;

function splitEnhancedCode(code: number, text: string): { enhanced: string | null; text: string } {
  const m = ENHANCED.exec(text);
  if (!m || Number(m[1]) !== Math.floor(code / 100)) return { enhanced: null, text };
  return { enhanced: `${m[1]}.${Number(m[2])}.${Number(m[3])}`, text: text.slice(m[0].length) };
}

/** The reply from its received lines: the first line's enhanced code; any line's is stripped off. */
function receivedReply(code: number, rawLines: readonly string[]): SmtpReply {
  const split = rawLines.map((raw) => splitEnhancedCode(code, raw));
  const lines = split.map((s) => s.text);
  const enhanced = split[0]?.enhanced ?? null;
  return enhanced === null ? { code, lines } : { code, enhanced, lines };
}
