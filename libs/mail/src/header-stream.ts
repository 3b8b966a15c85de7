/**
 * Node stream wrappers around `HeaderSplitter`: thin, so the rules stay in the pure class.
 *
 * - `HeaderSplitStream`: message in, body out; the header block comes as the `header` event and
 *   the `header` promise.
 * - `prependHeaders`: message in, message out with new fields in front: [new lines] + original
 *   header block + body. The body is passed on as the chunks that came in, never copied.
 * - `composeMessage`: the same assembly when the header block and the body are already apart.
 */
import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { HeaderBlock } from './header-block';
import type { HeaderField } from './header-fields';
import { HeaderSplitter, type HeaderSplitterOptions, type SplitResult } from './header-splitter';

export type HeaderLines = Iterable<string | Uint8Array>;

const toBuffer = (x: string | Uint8Array): Buffer =>
  typeof x === 'string' ? Buffer.from(x, 'utf8') : Buffer.from(x);

/** Message bytes in, body bytes out. Fails with `HeaderTooLargeError` past the limit. */
export class HeaderSplitStream extends Transform {
  /** The header block, once read; rejects when the stream fails first. */
  readonly header: Promise<HeaderBlock>;
  private readonly splitter: HeaderSplitter;
  private settle!: { resolve: (h: HeaderBlock) => void; reject: (e: Error) => void };

  constructor(options: HeaderSplitterOptions = {}) {
    super();
    this.splitter = new HeaderSplitter(options);
    this.header = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.header.catch(() => undefined); // awaiting it is optional: no unhandled rejection
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.run(() => this.splitter.push(chunk), cb);
  }

  override _flush(cb: TransformCallback): void {
    this.run(() => this.splitter.end(), cb);
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.settle.reject(err ?? new Error('stream closed before the header block was complete'));
    cb(err);
  }

  private run(step: () => SplitResult, cb: TransformCallback): void {
    let result: SplitResult;
    try {
      result = step();
    } catch (err) {
      this.settle.reject(err as Error);
      return cb(err as Error);
    }
    if (result.header) {
      this.settle.resolve(result.header);
      this.emit('header', result.header);
    }
    for (const b of result.body) this.push(b);
    cb();
  }
}

export interface PrependHeadersOptions extends HeaderSplitterOptions {
  /**
   * Called once with the original header block; returns the CRLF-terminated lines to put in front
   * (may be async, may throw, e.g. `TooManyHopsError`, to fail the stream).
   */
  readonly prepend: (header: HeaderBlock) => HeaderLines | Promise<HeaderLines>;
  /**
   * Fields of the original block to leave out of the output (e.g. an `Authentication-Results`
   * that claims our authserv-id, RFC 8601 §5). The returned header block is the original one.
   */
  readonly dropField?: (field: HeaderField) => boolean;
}

/**
 * Message in, message with new fields in front out (a `Received:`, the `Message-ID`/`Date` of
 * RFC 6409 §8.2–8.3), otherwise byte for byte the same: reads `message` to its end and hands
 * `out` [new lines] + header block + body, the body as the chunks that came in. A function, not
 * a Transform: intake runs it for every message, and `stream.pipeline` alone costs an
 * AbortController and an aborted signal (a DOMException with its stack) per call. Resolves with
 * the original header block; rejects with the stream's error, the splitter's
 * (`HeaderTooLargeError`) or `prepend`'s.
 */
export async function prependHeaders(
  message: AsyncIterable<Buffer>,
  options: PrependHeadersOptions,
  out: (chunk: Buffer) => void,
): Promise<HeaderBlock | undefined> {
  const splitter = new HeaderSplitter(options);
  let header: HeaderBlock | undefined;
  const take = async (result: SplitResult) => {
    if (result.header) {
      header = result.header;
      for (const line of await options.prepend(header)) out(toBuffer(line));
      const raw = keptFields(header, options.dropField);
      if (raw.length) out(raw);
      if (header.separator.length) out(header.separator);
    }
    for (const b of result.body) out(b);
  };
  for await (const chunk of message) await take(splitter.push(chunk));
  await take(splitter.end());
  return header;
}

/** The block's bytes without the dropped fields; the very same buffer when none is dropped. */
function keptFields(header: HeaderBlock, drop: ((field: HeaderField) => boolean) | undefined): Buffer {
  const dropped = drop ? header.fields.filter(drop) : [];
  if (dropped.length === 0) return header.raw;
  // Each field's `raw` is a view into the block: cut out exactly those ranges, keep the rest
  // (including any line the parser did not take for a field) byte for byte.
  const kept: Buffer[] = [];
  let at = 0;
  for (const field of dropped) {
    const start = field.raw.byteOffset - header.raw.byteOffset;
    kept.push(header.raw.subarray(at, start));
    at = start + field.raw.length;
  }
  kept.push(header.raw.subarray(at));
  return Buffer.concat(kept);
}

/**
 * [prepended lines] + header block + body as one stream (for a header block and body already
 * split, e.g. by `HeaderSplitStream`).
 */
export function composeMessage(
  prepended: HeaderLines,
  header: HeaderBlock,
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Readable {
  async function* parts(): AsyncGenerator<Buffer> {
    for (const line of prepended) yield toBuffer(line);
    if (header.raw.length) yield header.raw;
    if (header.separator.length) yield header.separator;
    for await (const chunk of body) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
  }
  return Readable.from(parts(), { objectMode: false });
}
