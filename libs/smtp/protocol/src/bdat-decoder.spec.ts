import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BdatDecoder } from './bdat-decoder';
import { parseCommand } from './command-parser';
import type { BareNewlinePolicy } from './content-rules';

interface Chunk {
  size: number;
  last: boolean;
}

interface Outcome {
  body: string;
  /** Replies per chunk: 'ok' or the error code. */
  replies: string[];
  rest: string;
  size: number;
}

/**
 * Drive a decoder like a server would: the wire holds chunk data back to back (command lines
 * are handled outside), cut into pieces at `cuts`.
 */
function drive(
  chunks: readonly Chunk[],
  wire: Buffer,
  cuts: readonly number[],
  maxSize?: number,
  bareNewline?: BareNewlinePolicy,
): Outcome {
  const d = new BdatDecoder({
    ...(maxSize !== undefined && { maxSize }),
    ...(bareNewline && { bareNewline }),
  });
  const points = [...new Set(cuts)].filter((c) => c > 0 && c < wire.length).sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const p of [...points, wire.length]) {
    pieces.push(wire.subarray(from, p));
    from = p;
  }
  const body: Buffer[] = [];
  const replies: string[] = [];
  let pending: Buffer = Buffer.concat(pieces.splice(0, 1));
  const record = (e: { error: { code: number } | null }): void => {
    replies.push(e.error ? String(e.error.code) : 'ok');
  };
  for (const c of chunks) {
    const zero = d.begin(c.size, c.last);
    if (zero) {
      record(zero);
      continue;
    }
    for (;;) {
      if (pending.length === 0) {
        const next = pieces.shift();
        if (next === undefined) throw new Error('wire too short');
        pending = next;
        continue;
      }
      const r = d.feed(pending);
      body.push(...r.chunks);
      if (r.end) {
        pending = r.end.rest;
        record(r.end);
        break;
      }
      pending = Buffer.alloc(0);
    }
  }
  const rest = Buffer.concat([pending, ...pieces]).toString('latin1');
  return { body: Buffer.concat(body).toString('latin1'), replies, rest, size: d.size };
}

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('BDAT command (RFC 3030 §2)', () => {
  it.each([
    ['BDAT 0 LAST', 0, true],
    ['BDAT 86', 86, false],
    ['BDAT 986 LAST', 986, true],
    ['bdat 5 last', 5, true],
  ])('%s', (line, size, last) => {
    expect(parseCommand(line)).toEqual({ ok: true, command: { verb: 'BDAT', size, last } });
  });
});

describe('BdatDecoder', () => {
  it('takes exactly <size> octets and leaves the rest (pipelined commands)', () => {
    const d = new BdatDecoder();
    expect(d.begin(5, false)).toBeNull();
    expect(d.expectingData).toBe(true);
    const r = d.feed(bytes('abcdeBDAT 3 LAST\r\n'));
    expect(r.chunks.map(String)).toEqual(['abcde']);
    expect(r.end).toEqual({ rest: bytes('BDAT 3 LAST\r\n'), last: false, size: 5, error: null });
    expect(d.expectingData).toBe(false);
    expect(d.done).toBe(false);
  });

  it('does no dot-stuffing and has no terminator: CRLF . CRLF is plain data', () => {
    const data = '\r\n.\r\n..\xff\r\n';
    const out = drive([{ size: data.length, last: true }], bytes(`${data}QUIT\r\n`), []);
    expect(out).toEqual({ body: data, replies: ['ok'], rest: 'QUIT\r\n', size: data.length });
  });

  // The same content rules as DATA (content-rules.ts), over both policies.
  it.each([
    // [chunk contents, policy, body or the reply of the LAST chunk]
    [['a\nb\r\n'], 'reject', '550'],
    [['a\nb\r\n'], 'normalize', 'a\r\nb\r\n'],
    [['a\n', '\n.\n'], 'normalize', 'a\r\n\r\n.\r\n'],
    [['a\r', '\nb'], 'reject', 'a\r\nb'],
    [['a\r', 'b'], 'normalize', '550'],
    [['a\r'], 'normalize', '550'],
    [['Subject: hi\rFrom: ceo@victim.test\r\n\r\nx\r\n'], 'reject', '550'],
    [['Subject: hi\rFrom: ceo@victim.test\r\n\r\nx\r\n'], 'normalize', '550'],
    [['a\x00b\r\n'], 'normalize', '550'],
    [['a\r\n', '\x00.\r\n'], 'reject', '550'],
  ] as const)('%j under %s: %j', (contents, bareNewline, expected) => {
    const chunks = contents.map((c, i) => ({ size: c.length, last: i === contents.length - 1 }));
    const out = drive(chunks, bytes(`${contents.join('')}NOOP\r\n`), [], undefined, bareNewline);
    expect(out.rest).toBe('NOOP\r\n'); // in sync whatever happened
    if (expected === '550') {
      expect(out.replies.at(-1)).toBe('550');
    } else {
      expect(out.replies.every((r) => r === 'ok')).toBe(true);
      expect(out.body).toBe(expected);
      expect(out.size).toBe(expected.length);
    }
  });

  it('tells a NUL (550 5.6.0) from a bare line ending (550 5.5.2)', () => {
    const nul = new BdatDecoder();
    nul.begin(3, true);
    expect(nul.feed(bytes('a\x00b')).end?.error?.toReplyString()).toMatch(/^550 5\.6\.0 /);
    const bare = new BdatDecoder();
    bare.begin(3, true);
    expect(bare.feed(bytes('a\rb')).end?.error?.toReplyString()).toMatch(/^550 5\.5\.2 /);
  });

  it('completes BDAT 0 LAST at once', () => {
    const d = new BdatDecoder();
    expect(d.begin(0, true)).toEqual({ rest: Buffer.alloc(0), last: true, size: 0, error: null });
    expect(d.done).toBe(true);
    expect(() => d.begin(1, false)).toThrow();
  });

  it('ends the message with the LAST chunk after several chunks', () => {
    const out = drive(
      [
        { size: 3, last: false },
        { size: 0, last: false },
        { size: 4, last: true },
      ],
      bytes('abcdefgNOOP\r\n'),
      [1, 5],
    );
    expect(out).toEqual({ body: 'abcdefg', replies: ['ok', 'ok', 'ok'], rest: 'NOOP\r\n', size: 7 });
  });

  it('enforces the size limit cumulatively, at exactly the limit and one octet past', () => {
    const chunks = [
      { size: 4, last: false },
      { size: 6, last: true },
    ];
    expect(drive(chunks, bytes('0123456789'), [], 10).replies).toEqual(['ok', 'ok']);
    const over = drive(chunks, bytes('0123456789RSET\r\n'), [3, 7], 9);
    expect(over.replies).toEqual(['ok', '552']);
    expect(over.rest).toBe('RSET\r\n'); // still in sync: every announced octet was consumed
    expect(over.size).toBe(10);
  });

  it('emits nothing once over the limit, and reports 552 5.3.4', () => {
    const d = new BdatDecoder({ maxSize: 2 });
    d.begin(4, true);
    const r = d.feed(bytes('abcd'));
    expect(r.chunks).toEqual([]);
    expect(r.end?.error?.toReplyString()).toBe('552 5.3.4 Message size exceeds fixed limit of 2 octets\r\n');
    expect(d.error?.code).toBe(552);
  });

  it('refuses misuse', () => {
    const d = new BdatDecoder();
    expect(() => d.feed(bytes('x'))).toThrow();
    d.begin(2, false);
    expect(() => d.begin(2, false)).toThrow();
    expect(() => new BdatDecoder().begin(-1, false)).toThrow(RangeError);
    expect(() => new BdatDecoder().begin(1.5, false)).toThrow(RangeError);
  });

  it('gives the same outcome for any split (fast-check)', () => {
    const chunkList = fc.array(fc.record({ size: fc.nat({ max: 12 }), last: fc.constant(false) }), {
      minLength: 1,
      maxLength: 6,
    });
    fc.assert(
      fc.property(
        chunkList,
        fc.uint8Array({ maxLength: 80 }),
        fc.array(fc.nat({ max: 100 }), { maxLength: 10 }),
        fc.option(fc.nat({ max: 40 }), { nil: undefined }),
        fc.constantFrom<BareNewlinePolicy>('reject', 'normalize'),
        (list, extra, cuts, maxSize, bareNewline) => {
          const chunks = list.map((c, i) => ({ ...c, last: i === list.length - 1 }));
          const total = chunks.reduce((n, c) => n + c.size, 0);
          const wire = Buffer.concat([
            Buffer.from(extra),
            Buffer.alloc(Math.max(0, total - extra.length), 0x41),
          ]);
          const tail = bytes('QUIT\r\n');
          const input = Buffer.concat([wire.subarray(0, total), tail]);
          // the body is void after an error: only compare it when all chunks were accepted
          const voidBody = (o: Outcome): Outcome =>
            o.replies.every((r) => r === 'ok') ? o : { ...o, body: '' };
          const whole = drive(chunks, input, [], maxSize, bareNewline);
          expect(voidBody(drive(chunks, input, cuts, maxSize, bareNewline))).toEqual(voidBody(whole));
          expect(
            voidBody(drive(chunks, input, [...Array(input.length).keys()], maxSize, bareNewline)),
          ).toEqual(voidBody(whole));
          expect(whole.rest).toBe('QUIT\r\n');
          // Content with CR, LF or NUL is checked by the table above; here: framing and size.
          const content = input.subarray(0, total);
          if ([0x0d, 0x0a, 0x00].some((b) => content.includes(b))) return;
          expect(whole.size).toBe(total);
          if (maxSize === undefined || total <= maxSize) {
            expect(whole.body).toBe(input.subarray(0, total).toString('latin1'));
            expect(whole.replies.every((r) => r === 'ok')).toBe(true);
          } else {
            expect(whole.replies.at(-1)).toBe('552');
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
