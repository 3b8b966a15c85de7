/**
 * Input bytes not yet consumed, and command-line framing over them.
 *
 * RFC 5321 §2.3.8 / §4.1.1: a command line ends with CRLF; like Postfix we also take a bare LF as
 * the end of a command line (never in message data: that is the DataDecoder's strict job).
 * RFC 5321 §4.5.3.1.4 / §4.5.3.1.10: a line longer than the limit is refused with 500 5.5.2. We do
 * not buffer it: past the limit the bytes are dropped until the next LF, then the line is reported
 * as too long once, so the session stays in sync and memory stays bounded.
 */

/** Returned by `takeLine` for a line over the limit (already discarded). */
export const TOO_LONG = Symbol('line too long');

export class LineReader {
  private buf: Buffer | null = null;
  /** Where to resume the LF search (bytes before it hold no LF). */
  private scanned = 0;
  /** Dropping an over-long line up to its LF. */
  private discarding = false;

  /** Bytes waiting. */
  get length(): number {
    return this.buf === null ? 0 : this.buf.length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
  }

  /** Put bytes back in front (what followed the end of a DATA or BDAT body). */
  unshift(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.buf = this.buf === null ? chunk : Buffer.concat([chunk, this.buf]);
    this.scanned = 0;
  }

  /** Everything waiting, for a body decoder; the reader is then empty. */
  takeAll(): Buffer | null {
    const b = this.buf;
    this.buf = null;
    this.scanned = 0;
    return b;
  }

  /** Drop everything (RFC 3207 §4.2: plaintext pipelined before the TLS handshake). */
  clear(): void {
    this.buf = null;
    this.scanned = 0;
    this.discarding = false;
  }

  /**
   * The next line without its CRLF (or LF), `TOO_LONG` for a line over `maxOctets` (counted with
   * CRLF), or null when no complete line is waiting.
   */
  takeLine(maxOctets: number): Buffer | typeof TOO_LONG | null {
    const buf = this.buf;
    if (buf === null) return null;
    const lf = buf.indexOf(0x0a, this.scanned);
    if (lf < 0) {
      // A line of maxOctets including CRLF holds at most maxOctets - 1 octets before its LF.
      if (buf.length >= maxOctets) {
        this.discarding = true;
        this.buf = null;
        this.scanned = 0;
      } else {
        this.scanned = buf.length;
      }
      return null;
    }
    this.buf = lf + 1 < buf.length ? buf.subarray(lf + 1) : null;
    this.scanned = 0;
    if (this.discarding) {
      this.discarding = false;
      return TOO_LONG;
    }
    const end = lf > 0 && buf[lf - 1] === 0x0d ? lf - 1 : lf;
    // Counted as on the wire with CRLF, even when the client sent a bare LF.
    if (end + 2 > maxOctets) return TOO_LONG;
    return buf.subarray(0, end);
  }
}
