/**
 * Incremental decoder for the DATA phase (RFC 5321 §4.1.1.4, §4.5.2), fed arbitrary chunks.
 *
 * - The end of data is `CRLF . CRLF` and nothing else. The CRLF that ended the DATA command line
 *   counts as the first CRLF, so `.\r\n` right at the start is an empty message.
 * - Dot-unstuffing (§4.5.2): a line starting with "." has that "." removed.
 * - A bare CR or bare LF anywhere is refused (RFC 5321 §2.3.8; SMTP smuggling, 2023) and is never
 *   a line end: `\n.\n`, `\r.\r`, `\r\n.\n`... do not end the data.
 * - Size and line-length limits are checked as bytes arrive; once an error is found no more body
 *   is emitted, but the decoder still consumes input up to the real end of data so the session
 *   stays in sync, and reports the error there (bare CR/LF first, then size, then line length).
 *
 * Body chunks are views (`subarray`) into the input buffers: no per-byte work, no copying.
 * The CRLF ending the last line belongs to the message, the terminating `.\r\n` does not.
 */
import type { SmtpError } from './reply';
import { Replies } from './replies';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

export interface DataDecoderOptions {
  /** Maximum message size in octets after unstuffing (552 5.3.4); unset: no limit. */
  readonly maxSize?: number;
  /**
   * Maximum text line length in octets including CRLF, as on the wire (RFC 5321 §4.5.3.1.6:
   * 1000); unset: no limit.
   */
  readonly maxLineLength?: number;
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

/** Error ranks, most important first: smuggling beats size beats line length. */
const BARE = 0;
const TOO_BIG = 1;
const LINE_TOO_LONG = 2;
const NO_ERROR = 3;

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
  private errorRank = NO_ERROR;
  private _done = false;
  /** Octets of the current line seen in earlier chunks. */
  private lineOctets = 0;

  constructor(private readonly options: DataDecoderOptions = {}) {}

  /** Message octets so far (after unstuffing). */
  get size(): number {
    return this._size;
  }

  /** An error found so far; the server may close early on it, or wait for the end. */
  get error(): SmtpError | null {
    if (this.errorRank === NO_ERROR) return null;
    return (this._error ??=
      this.errorRank === BARE
        ? Replies.bareLineEnding()
        : this.errorRank === TOO_BIG
          ? Replies.messageTooBig(this.options.maxSize)
          : Replies.dataLineTooLong(this.options.maxLineLength ?? 0));
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
          if (buf[i] === CR) {
            i++;
            this.state = S.DotCr;
          } else {
            this.state = S.Text; // a stuffed dot, already dropped
          }
          break;
        case S.DotCr:
          if (buf[i] === LF) {
            // CRLF "." CRLF: the end of data (RFC 5321 §4.1.1.4).
            this._done = true;
            end = { rest: buf.subarray(i + 1), size: this._size, error: this.error };
            return { chunks, end };
          }
          // ".\r" + not LF: the CR was a bare CR inside a line; the body is void now. If that CR
          // ended the previous chunk it was held back: count it so the size is split-independent.
          if (i === 0) this._size += 1;
          this.fail(BARE);
          this.state = S.Text;
          break;
        case S.Cr:
          if (buf[i] === LF) {
            i++;
            this.checkLineLength(this.lineOctets + i - lineFrom);
            this.lineOctets = 0;
            lineFrom = i;
            this.state = S.LineStart;
          } else {
            this.fail(BARE); // CR not followed by LF
            this.state = S.Text;
          }
          break;
        case S.Text: {
          if (nextCr !== -1 && nextCr < i) nextCr = buf.indexOf(CR, i);
          if (nextLf !== -1 && nextLf < i) nextLf = buf.indexOf(LF, i);
          const p = nextCr === -1 ? nextLf : nextLf === -1 ? nextCr : Math.min(nextCr, nextLf);
          if (p === -1) {
            i = len;
          } else if (buf[p] === LF) {
            this.fail(BARE); // LF without CR: never a line end
            i = p + 1;
          } else {
            i = p + 1;
            this.state = S.Cr;
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
    if (max !== undefined && this._size > max) this.fail(TOO_BIG);
    if (this.errorRank === NO_ERROR) chunks.push(buf.subarray(from, to));
  }

  private checkLineLength(octets: number): void {
    const max = this.options.maxLineLength;
    if (max !== undefined && octets > max) this.fail(LINE_TOO_LONG);
  }

  /**
   * Keep the most important error, not the first: which one is seen first depends on how the
   * input was split, the most important one does not.
   */
  private fail(rank: number): void {
    if (rank < this.errorRank) {
      this.errorRank = rank;
      this._error = null; // built on demand: a flood of bare LFs must not allocate an error each
    }
  }
}
