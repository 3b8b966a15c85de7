/**
 * Splits a message into its header block and its body, incrementally, as the bytes arrive.
 *
 * Input: the message as the SMTP server hands it over (CRLF lines, already dot-unstuffed).
 * Output: one `HeaderBlock` (the header fields, byte for byte, and the empty line that ended
 * them) and the body as the original `Buffer`s (views into the chunks pushed, never re-encoded),
 * so that header block + separator + body is exactly the input.
 *
 * Why hand-written rather than `mailsplit`: we need only the top-level header block, with a hard
 * size limit, and the body passed on as the caller's own bytes. `mailsplit` walks every MIME part
 * and re-serialises what it parsed, which is more work and more surface than the intake needs
 * on every message; the rule below is about 100 lines.
 *
 * Where the header block ends (RFC 5322 §2.1, §3.5: fields, then an empty line, then the body):
 *  - at the first empty line (CRLF alone; a bare LF line is tolerated as well);
 *  - or, for a message without that empty line, before the first line that is neither a header
 *    field (`field-name [WSP] ":"`, RFC 5322 §3.6.8 and obs-optional §4.5) nor a continuation
 *    line (starting with WSP, §2.2.3). Then `separator` is empty and the body starts with that
 *    line, as Postfix's cleanup does it;
 *  - or at the end of the input (a message of header fields only).
 */
import { HeaderBlock } from './header-block';
import { HeaderTooLargeError } from './errors';

/** Default limit for the header block: 1 MiB. */
export const DEFAULT_MAX_HEADER_BYTES = 1024 * 1024;
/** RFC 5322 §2.1.1: a line is at most 998 characters; a longer "field name" is not one. */
const MAX_LINE = 998;

export interface HeaderSplitterOptions {
  /**
   * Most octets the header fields may take (their lines with CRLF, not counting the empty line
   * that ends the block). Exactly this many is accepted; one more throws `HeaderTooLargeError`.
   */
  readonly maxHeaderBytes?: number;
}

export interface SplitResult {
  /** The header block, once, in the result of the push that completed it. */
  readonly header?: HeaderBlock;
  /** Body bytes in order; views of the pushed chunks where possible. */
  readonly body: Buffer[];
}

type LineKind = 'empty' | 'field' | 'continuation' | 'body' | 'unknown';

const isWsp = (c: number): boolean => c === 0x20 || c === 0x09;
/** ftext of RFC 5322 §3.6.8: printable US-ASCII except ":". */
const isFtext = (c: number): boolean => c >= 33 && c <= 126 && c !== 0x3a;

/**
 * What a line (or the start of one, when `complete` is false) is. `line` excludes the LF but may
 * end in CR.
 */
function classify(line: Buffer, complete: boolean, haveField: boolean): LineKind {
  const n = line.length;
  if (complete && (n === 0 || (n === 1 && line[0] === 0x0d))) return 'empty';
  if (n === 0 || (n === 1 && line[0] === 0x0d)) return 'unknown'; // may become the empty line
  if (isWsp(line[0])) return haveField ? 'continuation' : 'body';
  let i = 0;
  while (i < n && isFtext(line[i])) i++;
  if (i === 0) return 'body';
  while (i < n && isWsp(line[i])) i++;
  if (i < n) return line[i] === 0x3a ? 'field' : 'body';
  if (complete || n > MAX_LINE) return 'body'; // a name and nothing after it: not a field
  return 'unknown';
}

export class HeaderSplitter {
  private readonly max: number;
  /** Header bytes so far, plus the line being read (from `lineStart`). */
  private buf = Buffer.alloc(0);
  private len = 0;
  private lineStart = 0;
  private haveField = false;
  private header: HeaderBlock | undefined;

  constructor(options: HeaderSplitterOptions = {}) {
    this.max = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    if (!Number.isInteger(this.max) || this.max < 0) throw new RangeError('maxHeaderBytes must be ≥ 0');
  }

  /** The header block, once the split is done. */
  get headerBlock(): HeaderBlock | undefined {
    return this.header;
  }

  get done(): boolean {
    return this.header !== undefined;
  }

  /** Feed the next bytes. Throws `HeaderTooLargeError` once the header fields pass the limit (then discard it). */
  push(chunk: Uint8Array): SplitResult {
    const bytes = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.header) return { body: bytes.length ? [bytes] : [] };
    let pos = 0;
    while (pos < bytes.length) {
      const lf = bytes.indexOf(0x0a, pos);
      const stop = lf < 0 ? bytes.length : lf + 1;
      this.append(bytes, pos, stop);
      pos = stop;
      const complete = lf >= 0;
      const kind = classify(
        this.buf.subarray(this.lineStart, this.len - (complete ? 1 : 0)),
        complete,
        this.haveField,
      );
      if (kind === 'empty') return this.finish(this.lineStart, this.len, [], bytes.subarray(pos));
      if (kind === 'body') {
        // The line belongs to the body: hand back its bytes (already copied) and the rest.
        const line = Buffer.from(this.buf.subarray(this.lineStart, this.len));
        return this.finish(this.lineStart, this.lineStart, [line], bytes.subarray(pos));
      }
      // A field or continuation line counts against the limit. A line not classified yet (a lone
      // CR, or a name with no colon so far) is at most MAX_LINE octets: the buffer stays bounded,
      // and the verdict does not depend on where the chunks were cut.
      if (kind !== 'unknown' && this.len > this.max) throw new HeaderTooLargeError(this.max);
      if (complete) {
        if (kind === 'field') this.haveField = true;
        this.lineStart = this.len;
      }
    }
    return { body: [] };
  }

  /** The input is over: whatever is left is header (a message without a body). */
  end(): SplitResult {
    if (this.header) return { body: [] };
    if (this.lineStart < this.len) {
      const kind = classify(this.buf.subarray(this.lineStart, this.len), true, this.haveField);
      if (kind === 'body' || kind === 'empty') {
        const line = Buffer.from(this.buf.subarray(this.lineStart, this.len));
        return this.finish(this.lineStart, this.lineStart, [line], Buffer.alloc(0));
      }
      if (this.len > this.max) throw new HeaderTooLargeError(this.max);
    }
    return this.finish(this.len, this.len, [], Buffer.alloc(0));
  }

  private append(src: Buffer, from: number, to: number): void {
    const need = this.len + (to - from);
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(
        Math.max(need, Math.min(this.buf.length * 2 || 4096, this.max + 4096)),
      );
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    src.copy(this.buf, this.len, from, to);
    this.len = need;
  }

  private finish(headerEnd: number, separatorEnd: number, before: Buffer[], rest: Buffer): SplitResult {
    const raw = Buffer.from(this.buf.subarray(0, headerEnd));
    const separator = Buffer.from(this.buf.subarray(headerEnd, separatorEnd));
    this.header = new HeaderBlock(raw, separator);
    this.buf = Buffer.alloc(0);
    this.len = this.lineStart = 0;
    const body = before.filter((b) => b.length > 0);
    if (rest.length) body.push(rest);
    return { header: this.header, body };
  }
}
