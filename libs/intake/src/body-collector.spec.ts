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
});
