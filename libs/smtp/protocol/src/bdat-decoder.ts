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
import { CR, CRLF, LF, NUL, Rank, rankError, type BareNewlinePolicy } from './content-rules';

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

  /** Apply the content rules to chunk octets and emit them (normalized) while no error. */
  private scan(data: Buffer, chunks: Buffer[]): void {
    let from = 0;
    for (let i = 0; i < data.length; i++) {
      const c = data[i];
      if (this.lastCr && c !== LF) this.fail(Rank.Bare); // CR not followed by LF
      if (c === NUL) this.fail(Rank.Nul);
      else if (c === LF && !this.lastCr) {
        if (this.options.bareNewline !== 'normalize') this.fail(Rank.Bare);
        else {
          this.emit(data.subarray(from, i), chunks);
          this.emit(CRLF, chunks);
          from = i + 1;
        }
      }
      this.lastCr = c === CR;
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
