/**
 * Gathers a message body as it streams in, for storage as `message_chunks` rows, without ever
 * joining it into one buffer: each byte is held once. Large incoming buffers are kept as they
 * are; small ones (a socket read can be a few bytes) are copied into a block of `blockSize`, so
 * a message becomes a few large rows rather than thousands of tiny ones.
 */
export class BodyCollector {
  private readonly chunks: Buffer[] = [];
  private block: Buffer | null = null;
  private used = 0;
  private total = 0;

  constructor(private readonly blockSize = 256 * 1024) {}

  get size(): number {
    return this.total;
  }

  push(data: Buffer): void {
    this.total += data.length;
    if (data.length >= this.blockSize / 2) {
      this.seal();
      this.chunks.push(data);
      return;
    }
    let offset = 0;
    while (offset < data.length) {
      this.block ??= Buffer.allocUnsafe(this.blockSize);
      const n = data.copy(this.block, this.used, offset);
      this.used += n;
      offset += n;
      if (this.used === this.blockSize) this.seal();
    }
  }

  /** The chunks in order; the collector is empty afterwards. */
  finish(): Buffer[] {
    this.seal();
    return this.chunks.splice(0);
  }

  private seal(): void {
    if (this.block && this.used > 0) this.chunks.push(this.block.subarray(0, this.used));
    this.block = null;
    this.used = 0;
  }
}
