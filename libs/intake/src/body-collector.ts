/**
 * Gathers a message body as it streams in, for storage as `message_chunks` rows, without ever
 * joining it into one buffer. Large incoming buffers are kept as they are; small ones (a socket
 * read can be a few bytes) are copied into blocks, so a message becomes a few large rows rather
 * than thousands of tiny ones.
 *
 * Blocks start small and double up to `blockSize`, and the last one is trimmed to its content,
 * so a message holds about its own size in memory. (A fixed 256 KiB block per message, as
 * before, held 50 times a 5 KB message's size outside the V8 heap until the commit, and that
 * external memory drove a full garbage collection every few dozen messages.)
 */
export class BodyCollector {
  private readonly chunks: Buffer[] = [];
  private block: Buffer | null = null;
  private used = 0;
  private total = 0;
  private nextBlock: number;

  constructor(
    private readonly blockSize = 256 * 1024,
    firstBlock = 16 * 1024,
  ) {
    this.nextBlock = Math.min(firstBlock, blockSize);
  }

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
      if (!this.block) {
        this.block = Buffer.allocUnsafe(this.nextBlock);
        this.nextBlock = Math.min(this.nextBlock * 2, this.blockSize);
      }
      const n = data.copy(this.block, this.used, offset);
      this.used += n;
      offset += n;
      if (this.used === this.block.length) this.seal();
    }
  }

  /** The chunks in order; the collector is empty afterwards. */
  finish(): Buffer[] {
    this.seal();
    return this.chunks.splice(0);
  }

  private seal(): void {
    const block = this.block;
    if (block && this.used > 0) {
      // A block less than half full is copied out, so the rest of it is not held until commit.
      // allocUnsafeSlow: a copy of its own size, not a slice of Node's shared pool (64 KiB on Node 24).
      this.chunks.push(
        this.used * 2 < block.length ? copyOut(block, this.used) : block.subarray(0, this.used),
      );
    }
    this.block = null;
    this.used = 0;
  }
}

function copyOut(block: Buffer, length: number): Buffer {
  const copy = Buffer.allocUnsafeSlow(length);
  block.copy(copy, 0, 0, length);
  return copy;
}
