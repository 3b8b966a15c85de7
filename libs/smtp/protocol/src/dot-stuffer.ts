/**
 * The sending side of DATA (RFC 5321 §4.5.2): "Before sending a line of mail text, the SMTP client
 * checks the first character of the line. If it is a period, one additional period is inserted at
 * the beginning of the line." Then the data ends with `CRLF . CRLF` (§4.1.1.4).
 *
 * The input is expected to use CRLF line ends; a dot after any LF is doubled, which is always
 * safe. Incremental: `feed` each chunk, then `end()` for the terminator.
 *
 * A sender that must not repair its input (a DKIM-signed message) asks for `requireCrlf`: a bare
 * CR or bare LF is then refused rather than passed on, because peers refuse them (RFC 5321
 * §2.3.8; SMTP smuggling, 2023). `reject8bit` refuses octets ≥ 0x80, for a peer without
 * 8BITMIME (RFC 6152). Both checks work across chunk boundaries.
 */

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const DOT_BUF = Buffer.from('.');
const TERMINATOR = Buffer.from('.\r\n');
const CRLF_TERMINATOR = Buffer.from('\r\n.\r\n');

/** The body holds a CR or LF that is not part of a CRLF pair; `offset` counts from its first byte. */
export class BareLineEndingError extends Error {
  constructor(
    readonly which: 'CR' | 'LF',
    readonly offset: number,
  ) {
    super(`message contains a bare ${which} at byte ${offset}; the body must use CRLF line endings`);
    this.name = 'BareLineEndingError';
  }
}

/**
 * The body holds a NUL, which no mail may carry (RFC 5322 §2.1, §3.5; RFC 2045 §2.7-2.8): a
 * receiver that strips NULs could read `\r\n\x00.\r\n` as the end of data.
 */
export class NulError extends Error {
  constructor(readonly offset: number) {
    super(`message contains a NUL character at byte ${offset}; mail must not carry NUL`);
    this.name = 'NulError';
  }
}

/** Throw `NulError` if `chunk` (starting `offset` octets into the body) holds a NUL. */
export function assertNoNul(chunk: Buffer, offset = 0): void {
  const at = chunk.indexOf(0);
  if (at !== -1) throw new NulError(offset + at);
}

/** The body holds an octet ≥ 0x80 but the peer did not announce 8BITMIME (RFC 6152). */
export class EightBitError extends Error {
  constructor(readonly offset: number) {
    super(`message contains an 8-bit byte at offset ${offset} but the peer did not announce 8BITMIME`);
    this.name = 'EightBitError';
  }
}

export interface DotStufferOptions {
  /** Throw `BareLineEndingError` on a CR or LF outside a CRLF pair (default: pass them on). */
  readonly requireCrlf?: boolean;
  /** Throw `EightBitError` on an octet ≥ 0x80 (default: pass it on). */
  readonly reject8bit?: boolean;
  /** Throw `NulError` on a NUL (default: pass it on). */
  readonly rejectNul?: boolean;
}

export class DotStuffer {
  /** The previous byte was LF (or nothing was sent yet). */
  private atLineStart = true;
  /** The data so far is empty or ends with CRLF. */
  private endsWithCrlf = true;
  private lastWasCr = false;
  /** Octets fed so far, for the offsets in errors. */
  private offset = 0;
  private readonly requireCrlf: boolean;
  private readonly reject8bit: boolean;
  private readonly rejectNul: boolean;

  constructor(options: DotStufferOptions = {}) {
    this.requireCrlf = options.requireCrlf === true;
    this.reject8bit = options.reject8bit === true;
    this.rejectNul = options.rejectNul === true;
  }

  /**
   * Stuff one chunk. Returns the input itself when no dot needs doubling. With the checks on,
   * throws `NulError` / `BareLineEndingError` / `EightBitError` for an offending octet, and returns
   * nothing of that chunk.
   */
  feed(chunk: Buffer): Buffer {
    if (chunk.length === 0) return chunk;
    if (this.rejectNul) assertNoNul(chunk, this.offset);
    if (this.requireCrlf || this.reject8bit) this.check(chunk);
    this.offset += chunk.length;
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

  /**
   * The end of data: `.\r\n`, preceded by CRLF when the body did not end with one. With
   * `requireCrlf`, a body ending in a CR throws `BareLineEndingError`.
   */
  end(): Buffer {
    if (this.requireCrlf && this.lastWasCr) throw new BareLineEndingError('CR', this.offset - 1);
    return this.endsWithCrlf ? TERMINATOR : CRLF_TERMINATOR;
  }

  /** The first offending octet of `chunk`, in wire order (a CR's fault shows at the next byte). */
  private check(chunk: Buffer): void {
    let prevCr = this.lastWasCr;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      const at = this.offset + i;
      if (this.requireCrlf) {
        if (prevCr && byte !== LF) throw new BareLineEndingError('CR', at - 1);
        if (byte === LF && !prevCr) throw new BareLineEndingError('LF', at);
      }
      if (this.reject8bit && byte >= 0x80) throw new EightBitError(at);
      prevCr = byte === CR;
    }
  }
}

/** A whole body, stuffed and terminated: exactly what follows the 354 reply on the wire. */
export function dotStuff(body: Buffer): Buffer {
  const s = new DotStuffer();
  return Buffer.concat([s.feed(body), s.end()]);
}

/** Throw BareLineEndingError unless every CR and LF in `body` is part of a CRLF pair. */
export function assertCrlf(body: Buffer): void {
  for (let i = body.indexOf(LF); i !== -1; i = body.indexOf(LF, i + 1)) {
    if (i === 0 || body[i - 1] !== CR) throw new BareLineEndingError('LF', i);
  }
  for (let i = body.indexOf(CR); i !== -1; i = body.indexOf(CR, i + 1)) {
    if (body[i + 1] !== LF) throw new BareLineEndingError('CR', i);
  }
}

/** Whether a buffer holds any byte ≥ 0x80 (needs BODY=8BITMIME, RFC 6152). */
export function hasEightBit(body: Buffer): boolean {
  for (let i = 0; i < body.length; i++) if (body[i] >= 0x80) return true;
  return false;
}
