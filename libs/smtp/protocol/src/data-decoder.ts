/**
 * Incremental decoder for the DATA phase (RFC 5321 §4.1.1.4, §4.5.2), fed arbitrary chunks.
 *
 * - The end of data is `CRLF . CRLF` and nothing else. The CRLF that ended the DATA command line
 *   counts as the first CRLF, so `.\r\n` right at the start is an empty message.
 * - Dot-unstuffing (§4.5.2): a line starting with "." has that "." removed.
 * - Content rules (content-rules.ts, the same for BDAT): a bare CR or a NUL is refused; a bare LF
 *   is refused (`bareNewline: 'reject'`) or stored as CRLF (`'normalize'`). Neither is ever an end
 *   of data: `\n.\n`, `\r.\r`, `\r\n.\n`... do not end the data (SMTP smuggling, 2023). Under
 *   `normalize` a lone "." line next to a bare LF (`\n.\r\n`, `\r\n.\n`) is refused as well:
 *   it is what a smuggling attempt looks like, and no honest client sends it.
 * - Size and line-length limits are checked as bytes arrive; once an error is found no more body
 *   is emitted, but the decoder still consumes input up to the real end of data so the session
 *   stays in sync, and reports the most important error there (content-rules.ts `Rank`).
 *
 * Body chunks are views (`subarray`) into the input buffers: no per-byte work, no copying.
 * The CRLF ending the last line belongs to the message, the terminating `.\r\n` does not.
 */
import type { SmtpError } from './reply';
import { CR, CRLF, firstOf, LF, NUL, Rank, rankError, type BareNewlinePolicy } from './content-rules';

const DOT = 0x2e;

export interface DataDecoderOptions {
  /** Maximum message size in octets after unstuffing (552 5.3.4); unset: no limit. */
  readonly maxSize?: number;
  /**
   * Maximum text line length in octets including CRLF, as on the wire (RFC 5321 §4.5.3.1.6:
   * 1000); unset: no limit.
   */
  readonly maxLineLength?: number;
  /** A bare LF in content: refused (550 5.5.2, the default) or stored as CRLF. */
  readonly bareNewline?: BareNewlinePolicy;
}

/** The end of data, as reported by `feed`. */
export interface DataEnd {
  /** Bytes after `.\r\n` in the last chunk: the next pipelined command(s). */
  readonly rest: Buffer;
  /** Message size in octets (after dot-unstuffing; counted even past a size limit). */
  readonly size: number;
  /** Null when the message is well-formed and within limits; otherwise the reply to give. */
  readonly error: SmtpError | null;
}

export interface DataFeedResult {
  /** Body chunks to append, in order (empty once an error was found). */
  readonly chunks: Buffer[];
  /** Set when this chunk contained the end of data. */
  readonly end: DataEnd | null;
}

/** Where we are in the current line (plain numbers: this is the hot loop). */
const S = {
  /** Right after CRLF (or at the very start). */
  LineStart: 0,
  /** At line start we saw "."; it is either stuffing or the terminator. */
  Dot: 1,
  /** We saw ".\r" at line start; LF now ends the data. */
  DotCr: 2,
  /** Inside a line. */
  Text: 3,
  /** Inside a line, right after a CR. */
  Cr: 4,
} as const;
type S = (typeof S)[keyof typeof S];

export class DataDecoder {
  private state: S = S.LineStart;
  private _size = 0;
  private _error: SmtpError | null = null;
  private errorRank: Rank = Rank.None;
  /** The current line started after a bare LF (taken as a line end under `normalize`). */
  private afterBareLf = false;
  private readonly normalize: boolean;
  private _done = false;
  /** Octets of the current line seen in earlier chunks. */
  private lineOctets = 0;

  constructor(private readonly options: DataDecoderOptions = {}) {
    this.normalize = options.bareNewline === 'normalize';
  }

  /** Message octets so far (after unstuffing). */
  get size(): number {
    return this._size;
  }

  /** An error found so far; the server may close early on it, or wait for the end. */
  get error(): SmtpError | null {
    if (this.errorRank === Rank.None) return null;
    return (this._error ??= rankError(this.errorRank, this.options));
  }

  get done(): boolean {
    return this._done;
  }

  /** Feed the next bytes of the connection. Throws if called after the end of data. */
  feed(buf: Buffer): DataFeedResult {
    if (this._done) throw new Error('DataDecoder: feed() after the end of data');
    const chunks: Buffer[] = [];
    const len = buf.length;
    let i = 0;
    let emitFrom = 0;
    let lineFrom = 0;
    let nextCr = -2; // cached indexOf results; -2: not computed yet
    let nextLf = -2;
    let nextNul = -2;
    let end: DataEnd | null = null;

    while (i < len) {
      switch (this.state) {
        case S.LineStart:
          if (buf[i] === DOT) {
            // RFC 5321 §4.5.2: the leading dot is never content; flush what precedes it.
            this.emit(buf, emitFrom, i, chunks);
            emitFrom = ++i;
            this.state = S.Dot;
          } else {
            this.state = S.Text;
          }
          break;
        case S.Dot:
          // A lone "." ending in a bare LF: never an end of data, and refused (smuggling).
          if (buf[i] === LF) this.fail(Rank.Bare);
          if (buf[i] === CR) {
            i++;
            this.state = S.DotCr;
          } else {
            this.state = S.Text; // a stuffed dot, already dropped
          }
          break;
        case S.DotCr:
          if (buf[i] === LF && this.afterBareLf) {
            // LF "." CRLF: not an end of data, only CRLF "." CRLF is (refused, see above). The
            // CRLF ends this line: the next one may hold the real end.
            if (i === 0) this._size += 1;
            this.fail(Rank.Bare);
            i++;
            this.lineOctets = 0;
            lineFrom = i;
            this.afterBareLf = false;
            this.state = S.LineStart;
          } else if (buf[i] === LF) {
            // CRLF "." CRLF: the end of data (RFC 5321 §4.1.1.4).
            this._done = true;
            end = { rest: buf.subarray(i + 1), size: this._size, error: this.error };
            return { chunks, end };
          } else {
            // ".\r" + not LF: the CR was a bare CR inside a line; the body is void now. If that CR
            // ended the previous chunk it was held back: count it so the size is split-independent.
            if (i === 0) this._size += 1;
            this.fail(Rank.Bare);
            this.state = S.Text;
          }
          break;
        case S.Cr:
          if (buf[i] === LF) {
            i++;
            this.checkLineLength(this.lineOctets + i - lineFrom);
            this.lineOctets = 0;
            lineFrom = i;
            this.afterBareLf = false;
            this.state = S.LineStart;
          } else {
            this.fail(Rank.Bare); // CR not followed by LF
            this.state = S.Text;
          }
          break;
        case S.Text: {
          if (nextCr !== -1 && nextCr < i) nextCr = buf.indexOf(CR, i);
          if (nextLf !== -1 && nextLf < i) nextLf = buf.indexOf(LF, i);
          if (nextNul !== -1 && nextNul < i) nextNul = buf.indexOf(NUL, i);
          const p = firstOf(nextCr, nextLf, nextNul);
          if (p === -1) {
            i = len;
          } else if (buf[p] === NUL) {
            this.fail(Rank.Nul);
            i = p + 1;
          } else if (buf[p] === CR) {
            i = p + 1;
            this.state = S.Cr;
          } else if (!this.normalize) {
            this.fail(Rank.Bare); // LF without CR: never a line end
            i = p + 1;
          } else {
            // `normalize`: the bare LF ends the line; the message gets CRLF instead.
            this.emit(buf, emitFrom, p, chunks);
            this.emit(CRLF, 0, 2, chunks);
            emitFrom = i = p + 1;
            this.checkLineLength(this.lineOctets + i - lineFrom);
            this.lineOctets = 0;
            lineFrom = i;
            this.afterBareLf = true;
            this.state = S.LineStart;
          }
          break;
        }
      }
    }
    // Hold back the CR of a pending ".\r": if LF follows it is the terminator, not content.
    this.emit(buf, emitFrom, this.state === S.DotCr ? len - 1 : len, chunks);
    this.lineOctets += len - lineFrom;
    this.checkLineLength(this.lineOctets);
    return { chunks, end };
  }

  private emit(buf: Buffer, from: number, to: number, chunks: Buffer[]): void {
    if (to <= from) return;
    this._size += to - from;
    const max = this.options.maxSize;
    if (max !== undefined && this._size > max) this.fail(Rank.TooBig);
    if (this.errorRank === Rank.None) chunks.push(buf.subarray(from, to));
  }

  private checkLineLength(octets: number): void {
    const max = this.options.maxLineLength;
    if (max !== undefined && octets > max) this.fail(Rank.LineTooLong);
  }

  /**
   * Keep the most important error, not the first: which one is seen first depends on how the
   * input was split, the most important one does not.
   */
  private fail(rank: Rank): void {
    if (rank < this.errorRank) {
      this.errorRank = rank;
      this._error = null; // built on demand: a flood of bare LFs must not allocate an error each
    }
  }
}
