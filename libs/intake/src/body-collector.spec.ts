import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BodyCollector } from './body-collector';

describe('BodyCollector', () => {
  it('gives back exactly the bytes pushed, for any sequence of pushes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 40 }),
        fc.integer({ min: 8, max: 512 }),
        (parts, blockSize) => {
          const collector = new BodyCollector(blockSize);
          for (const part of parts) collector.push(Buffer.from(part));
          const expected = Buffer.concat(parts.map((p) => Buffer.from(p)));
          expect(collector.size).toBe(expected.length);
          const chunks = collector.finish();
          expect(Buffer.concat(chunks).equals(expected)).toBe(true);
          expect(chunks.every((c) => c.length > 0)).toBe(true);
        },
      ),
    );
  });

  it('coalesces small reads into blocks and keeps large buffers as they are', () => {
    const collector = new BodyCollector(16);
    for (let i = 0; i < 10; i++) collector.push(Buffer.from('abc'));
    const big = Buffer.alloc(20, 1);
    collector.push(big);
    const chunks = collector.finish();
    expect(chunks.map((c) => c.length)).toEqual([16, 14, 20]);
    expect(chunks[2]).toBe(big);
  });

  it('grows its blocks from small to blockSize', () => {
    const collector = new BodyCollector(1024, 64);
    const parts = Array.from({ length: 100 }, (_, i) => Buffer.alloc(10, i));
    for (const part of parts) collector.push(part);
    const chunks = collector.finish();
    expect(chunks.map((c) => c.length)).toEqual([64, 128, 256, 512, 40]);
    expect(Buffer.concat(chunks).equals(Buffer.concat(parts))).toBe(true);
  });

  it('copies a last block less than half full out, so the block is not held', () => {
    const collector = new BodyCollector(64 * 1024, 8 * 1024);
    for (let i = 0; i < 90; i++) collector.push(Buffer.alloc(100, i));
    const [first, last] = collector.finish();
    expect([first.length, last.length]).toEqual([8192, 808]);
    // The 808 bytes no longer live in the 16 KiB block they were gathered in.
    expect(last.buffer.byteLength).toBeLessThan(16 * 1024);
  });
});
