/**
 * The sending side of DATA (RFC 5321 §4.5.2): "Before sending a line of mail text, the SMTP client
 * checks the first character of the line. If it is a period, one additional period is inserted at
 * the beginning of the line." Then the data ends with `CRLF . CRLF` (§4.1.1.4).
 *
 * The input is expected to use CRLF line ends; a dot after any LF is doubled, which is always
 * safe. Incremental: `feed` each chunk, then `end()` for the terminator.
 */

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const DOT_BUF = Buffer.from('.');
const TERMINATOR = Buffer.from('.\r\n');
const CRLF_TERMINATOR = Buffer.from('\r\n.\r\n');

export class DotStuffer {
  /** The previous byte was LF (or nothing was sent yet). */
  private atLineStart = true;
  /** The data so far is empty or ends with CRLF. */
  private endsWithCrlf = true;
  private lastWasCr = false;

  /** Stuff one chunk. Returns the input itself when no dot needs doubling. */
  feed(chunk: Buffer): Buffer {
    if (chunk.length === 0) return chunk;
    const parts: Buffer[] = [];
    let from = 0;
    if (this.atLineStart && chunk[0] === DOT) parts.push(DOT_BUF);
    for (let lf = chunk.indexOf(LF); lf >= 0; lf = chunk.indexOf(LF, lf + 1)) {
      if (chunk[lf + 1] === DOT) {
        parts.push(chunk.subarray(from, lf + 1), DOT_BUF);
        from = lf + 1;
      }
    }
    const last = chunk[chunk.length - 1];
    const prev = chunk.length > 1 ? chunk[chunk.length - 2] === CR : this.lastWasCr;
    this.atLineStart = last === LF;
    this.endsWithCrlf = last === LF && prev;
    this.lastWasCr = last === CR;
    if (parts.length === 0) return chunk;
    parts.push(chunk.subarray(from));
    return Buffer.concat(parts);
  }

  /** The end of data: `.\r\n`, preceded by CRLF when the body did not end with one. */
  end(): Buffer {
    return this.endsWithCrlf ? TERMINATOR : CRLF_TERMINATOR;
  }
}

/** A whole body, stuffed and terminated: exactly what follows the 354 reply on the wire. */
export function dotStuff(body: Buffer): Buffer {
  const s = new DotStuffer();
  return Buffer.concat([s.feed(body), s.end()]);
}
