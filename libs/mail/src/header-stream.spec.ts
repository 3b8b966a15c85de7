import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { HeaderTooLargeError, TooManyHopsError } from './errors';
import type { HeaderBlock } from './header-block';
import { composeMessage, HeaderSplitStream, prependHeaders, type HeaderLines } from './header-stream';
import { checkHops } from './hops';
import { buildReceived } from './received';

/** A message of CRLF header lines and a binary body, fed in chunks of random sizes. */
function source(message: Buffer, maxChunk = 97): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < message.length;) {
    const n = 1 + Math.floor(Math.random() * maxChunk);
    chunks.push(message.subarray(i, i + n));
    i += n;
  }
  return Readable.from(chunks, { objectMode: false });
}

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of stream) out.push(Buffer.from(c as Buffer));
  return Buffer.concat(out);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const headerText =
  'Received: from a by b; Thu, 26 Nov 2026 16:00:00 +0000\r\nFrom: a@example.com\r\nSubject: binary\r\n';
const body = Buffer.concat([randomBytes(200_000), Buffer.from('\r\n\r\n.\r\n\0\xff', 'latin1')]);
const message = Buffer.concat([Buffer.from(headerText + '\r\n'), body]);

describe('HeaderSplitStream', () => {
  it('gives the header block and passes the binary body through byte for byte', async () => {
    const split = new HeaderSplitStream();
    const seen: HeaderBlock[] = [];
    split.on('header', (h: HeaderBlock) => seen.push(h));
    const [out, header] = await Promise.all([collect(source(message).pipe(split)), split.header]);
    expect(sha(out)).toBe(sha(body));
    expect(header.raw.toString()).toBe(headerText);
    expect(header.get('subject')).toBe('binary');
    expect(seen).toEqual([header]);
  });

  it('fails with HeaderTooLargeError and rejects `header`', async () => {
    const split = new HeaderSplitStream({ maxHeaderBytes: 20 });
    await expect(
      pipeline(source(message), split, async function* (s) {
        for await (const _ of s) yield _;
      }),
    ).rejects.toBeInstanceOf(HeaderTooLargeError);
    await expect(split.header).rejects.toBeInstanceOf(HeaderTooLargeError);
  });
});

describe('prependHeaders', () => {
  const run = async (input: Readable, prepend: (h: HeaderBlock) => HeaderLines | Promise<HeaderLines>) => {
    const out: Buffer[] = [];
    const header = await prependHeaders(input, { prepend }, (c) => out.push(c));
    return { header, out: Buffer.concat(out) };
  };

  it('leaves out the fields dropField picks, folded ones whole, and keeps every other byte', async () => {
    const input =
      'Authentication-Results: mx.ours.example;\r\n\tdmarc=pass\r\nFrom: a@b.example\r\n' +
      'Authentication-Results: other.example; spf=pass\r\nSubject: s\r\n\r\nbody\r\n';
    const out: Buffer[] = [];
    const header = await prependHeaders(
      source(Buffer.from(input)),
      {
        prepend: () => ['X-New: 1\r\n'],
        dropField: (f) => f.key === 'authentication-results' && f.value.startsWith('mx.ours'),
      },
      (c) => out.push(c),
    );
    expect(Buffer.concat(out).toString()).toBe(
      'X-New: 1\r\nFrom: a@b.example\r\nAuthentication-Results: other.example; spf=pass\r\nSubject: s\r\n\r\nbody\r\n',
    );
    expect(header?.count('authentication-results')).toBe(2); // the block as received
  });

  it('with nothing to prepend, output SHA-256 === input SHA-256', async () => {
    expect(sha((await run(source(message), () => [])).out)).toBe(sha(message));
  });

  it('prepends [new lines] + original header block + body (async prepend, string and byte lines)', async () => {
    const received = buildReceived({
      helo: 'c.example',
      clientIp: '192.0.2.7',
      by: 'mx.example.org',
      id: 'Q1',
      protocol: { esmtp: true, tls: false, auth: false },
      date: new Date('2026-11-26T16:00:00Z'),
    });
    const { out } = await run(source(message), async (h) => {
      await new Promise((r) => setTimeout(r, 5));
      return [received, `X-Hops: ${h.receivedCount}\r\n`, Buffer.from('X-Bytes: yes\r\n')];
    });
    const expected = Buffer.concat([Buffer.from(`${received}X-Hops: 1\r\nX-Bytes: yes\r\n`), message]);
    expect(sha(out)).toBe(sha(expected));
  });

  it('gives the same bytes for every way the input is cut', async () => {
    for (const maxChunk of [1, 7, 97, 5000, 1_000_000]) {
      const lines = async (h: HeaderBlock) => [`X-Hops: ${h.receivedCount}\r\n`, 'X-B: 2\r\n'];
      const { header, out } = await run(source(message, maxChunk), lines);
      expect(sha(out)).toBe(sha(Buffer.concat([Buffer.from('X-Hops: 1\r\nX-B: 2\r\n'), message])));
      expect(header?.get('subject')).toBe('binary');
    }
  });

  it('works for a message that is only headers, and for an empty one', async () => {
    expect((await run(source(Buffer.from('Subject: x\r\n'), 3), () => ['A: 1\r\n'])).out.toString()).toBe(
      'A: 1\r\nSubject: x\r\n',
    );
    expect((await run(Readable.from([]), () => ['A: 1\r\n'])).out.toString()).toBe('A: 1\r\n');
  });

  it('rejects when prepend throws, when the header block is too large, and when the input fails', async () => {
    const looping = Buffer.from('Received: x; Thu, 26 Nov 2026 16:00:00 +0000\r\n'.repeat(5) + '\r\nbody');
    await expect(run(source(looping), (h) => (checkHops(h, 3), []))).rejects.toBeInstanceOf(TooManyHopsError);
    await expect(
      prependHeaders(
        source(Buffer.from('Subject: ' + 'x'.repeat(200) + '\r\n\r\n')),
        { maxHeaderBytes: 100, prepend: () => [] },
        () => undefined,
      ),
    ).rejects.toBeInstanceOf(HeaderTooLargeError);
    const broken = new Readable({ read: () => undefined });
    broken.push(Buffer.from('Subject: x\r\n'));
    setImmediate(() => broken.destroy(new Error('connection lost')));
    await expect(run(broken, () => [])).rejects.toThrow('connection lost');
  });
});

describe('composeMessage', () => {
  it('assembles prepended lines, the header block and the split body', async () => {
    const split = source(message).pipe(new HeaderSplitStream());
    const header = await split.header;
    const out = await collect(composeMessage(['X-New: 1\r\n'], header, split));
    expect(sha(out)).toBe(sha(Buffer.concat([Buffer.from('X-New: 1\r\n'), message])));
  });
});
