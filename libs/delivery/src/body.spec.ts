import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { headerNeedsUtf8 } from './body';

const chunks =
  (...parts: string[]) =>
  () =>
    Readable.from(parts.map((p) => Buffer.from(p, 'utf8')));

describe('headerNeedsUtf8 (RFC 6532 header, RFC 6531 §3.4)', () => {
  it('looks at the header block only, across chunk boundaries', async () => {
    expect(await headerNeedsUtf8(chunks('Subject: x\r\n\r\nGrüße\r\n'))).toBe(false);
    expect(await headerNeedsUtf8(chunks('Subject: Grüße\r\n\r\nhi\r\n'))).toBe(true);
    // The empty line split over chunks, the body's UTF-8 in the next chunk.
    expect(await headerNeedsUtf8(chunks('Subject: x\r\n\r', '\nGrüße\r\n'))).toBe(false);
    expect(await headerNeedsUtf8(chunks('Subject: x\r', '\n', '\r', '\nGrüße'))).toBe(false);
    // A UTF-8 header field in a later chunk.
    expect(await headerNeedsUtf8(chunks('Subject: x\r\n', 'From: Jörg <j@example.org>\r\n\r\nhi'))).toBe(
      true,
    );
    expect(await headerNeedsUtf8(chunks('\r\nGrüße'))).toBe(false); // empty header block
  });

  it('stops reading after the header block', async () => {
    let pulled = 0;
    async function* source() {
      for (const part of ['Subject: x\r\n\r\n', 'body 1\r\n', 'body 2\r\n']) {
        pulled++;
        yield Buffer.from(part);
      }
    }
    expect(await headerNeedsUtf8(source)).toBe(false);
    expect(pulled).toBe(1);
  });

  it('answers true when the source cannot be read (treated as needing SMTPUTF8)', async () => {
    const broken = () =>
      new Readable({
        read() {
          this.destroy(new Error('chunk missing'));
        },
      });
    expect(await headerNeedsUtf8(broken)).toBe(true);
  });
});
