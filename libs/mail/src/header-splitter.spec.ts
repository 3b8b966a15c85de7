import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeaderTooLargeError } from './errors';
import { HeaderSplitter } from './header-splitter';

interface Split {
  raw: string;
  separator: string;
  body: Buffer;
}

/** Run the splitter over `input` cut at `cuts` (offsets), collecting everything. */
function split(input: Buffer, cuts: number[] = [], maxHeaderBytes?: number): Split {
  const s = new HeaderSplitter({ maxHeaderBytes });
  const body: Buffer[] = [];
  let header: Split | undefined;
  const take = (r: ReturnType<HeaderSplitter['push']>): void => {
    if (r.header) {
      expect(header).toBeUndefined();
      header = {
        raw: r.header.raw.toString('latin1'),
        separator: r.header.separator.toString('latin1'),
        body: Buffer.alloc(0),
      };
    }
    body.push(...r.body);
  };
  let prev = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    take(s.push(input.subarray(prev, cut)));
    prev = cut;
  }
  take(s.push(input.subarray(prev)));
  take(s.end());
  expect(header).toBeDefined();
  return { ...(header as Split), body: Buffer.concat(body) };
}

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('HeaderSplitter: where the header block ends', () => {
  const cases: { name: string; input: string; raw: string; separator: string; body: string }[] = [
    {
      name: 'empty line',
      input: 'A: 1\r\nB: 2\r\n\r\nbody\r\n',
      raw: 'A: 1\r\nB: 2\r\n',
      separator: '\r\n',
      body: 'body\r\n',
    },
    {
      name: 'folded field',
      input: 'A: 1\r\n  more\r\n\r\nx',
      raw: 'A: 1\r\n  more\r\n',
      separator: '\r\n',
      body: 'x',
    },
    { name: 'no body at all', input: 'A: 1\r\nB: 2\r\n', raw: 'A: 1\r\nB: 2\r\n', separator: '', body: '' },
    { name: 'empty body', input: 'A: 1\r\n\r\n', raw: 'A: 1\r\n', separator: '\r\n', body: '' },
    { name: 'no headers', input: '\r\nbody', raw: '', separator: '\r\n', body: 'body' },
    { name: 'empty input', input: '', raw: '', separator: '', body: '' },
    {
      name: 'body line without the empty line',
      input: 'A: 1\r\nhello world\r\nB: 2\r\n',
      raw: 'A: 1\r\n',
      separator: '',
      body: 'hello world\r\nB: 2\r\n',
    },
    {
      name: 'name with no colon at the end',
      input: 'A: 1\r\nhello',
      raw: 'A: 1\r\n',
      separator: '',
      body: 'hello',
    },
    {
      name: 'continuation first is body',
      input: ' x: 1\r\n\r\n',
      raw: '',
      separator: '',
      body: ' x: 1\r\n\r\n',
    },
    {
      name: 'WSP before colon (obs-optional)',
      input: 'Subject : hi\r\n\r\nb',
      raw: 'Subject : hi\r\n',
      separator: '\r\n',
      body: 'b',
    },
    { name: 'last field without CRLF', input: 'A: 1\r\nB: 2', raw: 'A: 1\r\nB: 2', separator: '', body: '' },
    {
      name: 'bare LF tolerated',
      input: 'A: 1\nB: 2\n\nbody',
      raw: 'A: 1\nB: 2\n',
      separator: '\n',
      body: 'body',
    },
    {
      name: '8-bit value (RFC 6532)',
      input: 'Subject: caf\xc3\xa9\r\n\r\n\xff\x00',
      raw: 'Subject: caf\xc3\xa9\r\n',
      separator: '\r\n',
      body: '\xff\x00',
    },
    {
      name: 'mbox From_ line is body',
      input: 'From someone\r\nA: 1\r\n',
      raw: '',
      separator: '',
      body: 'From someone\r\nA: 1\r\n',
    },
    {
      name: 'lone CR line is body',
      input: 'A: 1\r\n\rX\r\n',
      raw: 'A: 1\r\n',
      separator: '',
      body: '\rX\r\n',
    },
  ];
  it.each(cases)('$name', ({ input, raw, separator, body }) => {
    const r = split(b(input));
    expect(r.raw).toBe(raw);
    expect(r.separator).toBe(separator);
    expect(r.body.toString('latin1')).toBe(body);
  });

  it.each(cases)('$name: the same at every single cut', ({ input, raw, separator, body }) => {
    const bytes = b(input);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const r = split(bytes, [cut]);
      expect([r.raw, r.separator, r.body.toString('latin1')]).toEqual([raw, separator, body]);
    }
  });

  it('passes body chunks through as views, not copies', () => {
    const s = new HeaderSplitter();
    s.push(b('A: 1\r\n\r\n'));
    const chunk = b('the body');
    expect(s.push(chunk).body[0]).toBe(chunk);
  });
});

describe('HeaderSplitter: byte-exact for any chunking (property)', () => {
  const line = fc.oneof(
    fc.constantFrom(
      'Received: from a by b; x\r\n',
      '\tcontinued\r\n',
      'Subject: s\r\n',
      '\r\n',
      'body line\r\n',
      '\r',
      '\n',
    ),
    fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u).toString('latin1')),
  );
  const message = fc.array(line, { maxLength: 30 }).map((ls) => b(ls.join('')));

  it('raw + separator + body === input, and the split does not depend on the cuts', () => {
    fc.assert(
      fc.property(message, fc.array(fc.nat(), { maxLength: 12 }), (input, cutSeeds) => {
        const cuts = cutSeeds.map((c) => (input.length ? c % (input.length + 1) : 0));
        const whole = split(input);
        const chunked = split(input, cuts);
        const out = Buffer.concat([b(chunked.raw), b(chunked.separator), chunked.body]);
        expect(out.equals(input)).toBe(true);
        expect(chunked).toEqual(whole);
        const sha = (x: Buffer): string => createHash('sha256').update(x).digest('hex');
        expect(sha(out)).toBe(sha(input));
      }),
      { numRuns: 500 },
    );
  });
});

describe('HeaderSplitter: size limit', () => {
  const fields = 'Subject: 0123456789\r\nX: y\r\n'; // 27 octets
  const limit = Buffer.byteLength(fields);

  it.each([
    ['exactly at the limit', limit, false],
    ['one past the limit', limit - 1, true],
  ])('%s', (_name, max, fails) => {
    const input = b(`${fields}\r\nbody`);
    for (let cut = 0; cut <= input.length; cut++) {
      const run = (): Split => split(input, [cut], max);
      if (fails) expect(run).toThrow(HeaderTooLargeError);
      else expect(run().raw).toBe(fields);
    }
  });

  it('counts a header block without a separator too (end of input)', () => {
    expect(() => split(b(fields), [], limit - 1)).toThrow(HeaderTooLargeError);
    expect(split(b(fields), [], limit).raw).toBe(fields);
  });

  it('fails as soon as one long field passes the limit, without waiting for its end', () => {
    const s = new HeaderSplitter({ maxHeaderBytes: 100 });
    expect(() => s.push(b(`X-Long: ${'a'.repeat(200)}`))).toThrow(HeaderTooLargeError);
  });

  it('a body line after headers at the limit is not counted', () => {
    const r = split(b(`${fields}no colon here\r\n`), [limit + 3], limit);
    expect(r.raw).toBe(fields);
    expect(r.body.toString()).toBe('no colon here\r\n');
  });

  it('is a 552 5.3.4 SmtpError', () => {
    const err = new HeaderTooLargeError(10);
    expect(err.toReplyString()).toBe('552 5.3.4 Message header too large: more than 10 octets\r\n');
  });
});
