/**
 * The body stream handed to `onData`: a Readable the connection pushes dot-unstuffed chunks into.
 * When the handler does not keep up (`push` returns false) the connection stops reading the socket
 * (`onPause`), and `_read` (the handler wants more) resumes it (`onResume`): TCP flow control then
 * slows the client down, and memory stays bounded by the socket and stream buffers.
 */
import { Readable } from 'node:stream';

/** How much body may wait in the stream before the socket is paused. */
export const MESSAGE_STREAM_HIGH_WATER_MARK = 64 * 1024;

export class MessageStream extends Readable {
  /** Octets pushed so far. */
  bytes = 0;
  private waiting = false;

  constructor(private readonly onResume: () => void) {
    super({ highWaterMark: MESSAGE_STREAM_HIGH_WATER_MARK });
    // The server destroys the stream with the body's SmtpError; a handler that stopped listening
    // must not turn that into an uncaught exception. Handlers that listen still get it.
    this.on('error', () => undefined);
  }

  /** True while the consumer has asked for no more (the connection should pause the socket). */
  get backpressured(): boolean {
    return this.waiting;
  }

  /** Push body chunks; returns false when the consumer is full. */
  write(chunks: readonly Buffer[]): boolean {
    if (this.destroyed) return true;
    let more = true;
    for (const c of chunks) {
      this.bytes += c.length;
      more = this.push(c);
    }
    if (!more) this.waiting = true;
    return more;
  }

  /** The body is complete. */
  finish(): void {
    this.waiting = false;
    if (!this.destroyed) this.push(null);
  }

  override _read(): void {
    if (this.waiting) {
      this.waiting = false;
      this.onResume();
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.waiting) {
      this.waiting = false;
      this.onResume();
    }
    callback(error);
  }
}
