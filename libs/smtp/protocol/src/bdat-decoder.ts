/**
 * BDAT framing (RFC 3030 §2): after `BDAT <size> [LAST]` exactly <size> octets follow, binary-safe,
 * with no dot-stuffing and no terminator. One decoder per message: it counts the size across all
 * chunks of the message and enforces the limit cumulatively, while still consuming every octet
 * announced so the session stays in sync (RFC 3030 §4.2: the server must read the whole chunk).
 *
 * The content follows the same rule as DATA (content-rules.ts): no NUL, no bare CR, a bare LF
 * refused or stored as CRLF. A CRLF split between two chunks is one CRLF. We do not offer
 * BINARYMIME (RFC 3030 §3), so a BDAT body is text like any other.
 */
import type { SmtpError } from './reply';
import { CR, CRLF, firstOf, LF, NUL, Rank, rankError, type BareNewlinePolicy } from './content-rules';

export interface BdatDecoderOptions {
  /** Maximum message size (sum of all chunks) in octets: 552 5.3.4 when exceeded. */
  readonly maxSize?: number;
  /** A bare LF in content: refused (550 5.5.2, the default) or stored as CRLF. */
  readonly bareNewline?: BareNewlinePolicy;
}

/** The end of one chunk, as reported by `feed`. */
export interface BdatChunkEnd {
  /** Bytes after the chunk in the last buffer: the next pipelined command(s). */
  readonly rest: Buffer;
  /** This was the LAST chunk: the message is complete. */
  readonly last: boolean;
  /** Message octets so far (all chunks). */
  readonly size: number;
  /** Null when within limits; otherwise the reply to give to this chunk. */
  readonly error: SmtpError | null;
}

export interface BdatFeedResult {
  /** Body chunks to append (none once an error was found). */
  readonly chunks: Buffer[];
  /** Set when the announced octets of the current chunk are complete. */
  readonly end: BdatChunkEnd | null;
}

export class BdatDecoder {
  private remaining = 0;
  private last = false;
  private inChunk = false;
  private finished = false;
  private _size = 0;
  private _error: SmtpError | null = null;
  private errorRank: Rank = Rank.None;
  /** The last content octet was a CR (its LF may come in the next chunk). */
  private lastCr = false;

  constructor(private readonly options: BdatDecoderOptions = {}) {}

  get size(): number {
    return this._size;
  }

  get error(): SmtpError | null {
    if (this.errorRank === Rank.None) return null;
    return (this._error ??= rankError(this.errorRank, this.options));
  }

  /** A chunk is announced and not yet complete: feed bytes. */
  get expectingData(): boolean {
    return this.inChunk;
  }

  /** The LAST chunk was complete. */
  get done(): boolean {
    return this.finished;
  }

  /**
   * Start a chunk after `BDAT size [LAST]`. A zero-size chunk (e.g. `BDAT 0 LAST`) completes at
   * once; its end is returned here, with `rest` empty. Otherwise returns null: feed the bytes.
   */
  begin(size: number, last: boolean): BdatChunkEnd | null {
    if (this.inChunk) throw new Error('BdatDecoder: begin() while a chunk is in progress');
    if (this.finished) throw new Error('BdatDecoder: begin() after the LAST chunk');
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`BdatDecoder: bad chunk size ${size}`);
    this.remaining = size;
    this.last = last;
    this.inChunk = true;
    if (size === 0) return this.complete(Buffer.alloc(0));
    return null;
  }

  /** Feed bytes of the connection while a chunk is in progress. */
  feed(buf: Buffer): BdatFeedResult {
    if (!this.inChunk) throw new Error('BdatDecoder: feed() without a chunk in progress');
    const take = Math.min(this.remaining, buf.length);
    const chunks: Buffer[] = [];
    if (take > 0) {
      this.remaining -= take;
      this.scan(buf.subarray(0, take), chunks);
    }
    if (this.remaining > 0) return { chunks, end: null };
    return { chunks, end: this.complete(buf.subarray(take)) };
  }

  /**
   * Apply the content rules to chunk octets and emit them (normalized) while no error. Jumps
   * from one CR, LF or NUL to the next with `indexOf`: no per-octet work in between.
   */
  private scan(data: Buffer, chunks: Buffer[]): void {
    const len = data.length;
    let from = 0;
    let i = 0;
    if (this.lastCr) {
      // The CR that ended the previous chunk: its LF must come first here.
      if (data[0] === LF) i = 1;
      else this.fail(Rank.Bare);
      this.lastCr = false;
    }
    let nextCr = -2; // cached indexOf results; -2: not computed yet
    let nextLf = -2;
    let nextNul = -2;
    while (i < len) {
      if (nextCr !== -1 && nextCr < i) nextCr = data.indexOf(CR, i);
      if (nextLf !== -1 && nextLf < i) nextLf = data.indexOf(LF, i);
      if (nextNul !== -1 && nextNul < i) nextNul = data.indexOf(NUL, i);
      const p = firstOf(nextCr, nextLf, nextNul);
      if (p === -1) break;
      i = p + 1;
      if (data[p] === NUL) this.fail(Rank.Nul);
      else if (data[p] === CR) {
        if (p + 1 === len) this.lastCr = true;
        else if (data[p + 1] === LF) i = p + 2;
        else this.fail(Rank.Bare); // CR not followed by LF
      } else if (this.options.bareNewline === 'normalize') {
        this.emit(data.subarray(from, p), chunks);
        this.emit(CRLF, chunks);
        from = p + 1;
      } else {
        this.fail(Rank.Bare); // LF without CR
      }
    }
    this.emit(data.subarray(from), chunks);
  }

  private emit(data: Buffer, chunks: Buffer[]): void {
    if (data.length === 0) return;
    this._size += data.length;
    const max = this.options.maxSize;
    if (max !== undefined && this._size > max) this.fail(Rank.TooBig);
    if (this.errorRank === Rank.None) chunks.push(data);
  }

  private fail(rank: Rank): void {
    if (rank < this.errorRank) {
      this.errorRank = rank;
      this._error = null;
    }
  }

  private complete(rest: Buffer): BdatChunkEnd {
    this.inChunk = false;
    if (this.last) {
      this.finished = true;
      if (this.lastCr) this.fail(Rank.Bare); // the message ends in a bare CR
    }
    return { rest, last: this.last, size: this._size, error: this.error };
  }
}
