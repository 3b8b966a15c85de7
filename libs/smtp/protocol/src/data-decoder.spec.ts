import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataDecoder, type DataDecoderOptions } from './data-decoder';
import { DotStuffer, dotStuff } from './dot-stuffer';

interface Outcome {
  body: string;
  /** Everything after the terminator, including chunks never fed. */
  rest: string;
  size: number;
  error: string | null;
}

/** Feed `input` cut at `cuts`; null when the end of data was never found. */
function decode(
  input: Buffer,
  cuts: readonly number[] = [],
  options: DataDecoderOptions = {},
): Outcome | null {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < input.length))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const p of [...points, input.length]) {
    pieces.push(input.subarray(from, p));
    from = p;
  }
  const d = new DataDecoder(options);
  const body: Buffer[] = [];
  for (let k = 0; k < pieces.length; k++) {
    const r = d.feed(pieces[k] as Buffer);
    body.push(...r.chunks);
    if (r.end) {
      const rest = Buffer.concat([r.end.rest, ...pieces.slice(k + 1)]).toString('latin1');
      const error = r.end.error ? `${r.end.error.code} ${r.end.error.enhanced}` : null;
      expect(d.done).toBe(true);
      return { body: Buffer.concat(body).toString('latin1'), rest, size: r.end.size, error };
    }
  }
  return null;
}

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

/**
 * An obviously-correct model over the whole input: line starts are offset 0 and every offset
 * after a CR LF pair; the end is the first line start followed by ".\r\n".
 */
function model(input: Buffer, options: DataDecoderOptions = {}): Outcome | null {
  const s = input.toString('latin1');
  const starts = [0];
  for (let i = 0; i + 1 < s.length; i++) if (s[i] === '\r' && s[i + 1] === '\n') starts.push(i + 2);
  const end = starts.find((k) => s.startsWith('.\r\n', k));
  if (end === undefined) return null;
  const data = s.slice(0, end);
  let bare = false;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === '\n' && data[i - 1] !== '\r') bare = true;
    if (data[i] === '\r' && data[i + 1] !== '\n') bare = true;
  }
  const lines = starts.filter((k) => k < end).map((k, idx, arr) => data.slice(k, arr[idx + 1] ?? end));
  const body = lines.map((l) => (l.startsWith('.') ? l.slice(1) : l)).join('');
  let error: string | null = null;
  if (options.maxLineLength !== undefined && lines.some((l) => l.length > (options.maxLineLength as number)))
    error = '500 5.5.2';
  if (options.maxSize !== undefined && body.length > options.maxSize) error = '552 5.3.4';
  if (bare) error = '550 5.5.2';
  return { body: error ? '' : body, rest: s.slice(end + 3), size: body.length, error };
}

/** Compare ignoring the body when there is an error (it is void then). */
function comparable(o: Outcome | null): Outcome | null {
  return o && o.error ? { ...o, body: '' } : o;
}

describe('DataDecoder: framing (RFC 5321 §4.1.1.4, §4.5.2)', () => {
  it.each([
    // [wire after the DATA line's CRLF, body, rest]
    ['.\r\n', '', ''],
    ['.\r\nQUIT\r\n', '', 'QUIT\r\n'],
    ['Subject: hi\r\n\r\nHello\r\n.\r\n', 'Subject: hi\r\n\r\nHello\r\n', ''],
    [
      'a\r\n.\r\nMAIL FROM:<x@y.example>\r\nRCPT TO:<z@y.example>\r\n',
      'a\r\n',
      'MAIL FROM:<x@y.example>\r\nRCPT TO:<z@y.example>\r\n',
    ],
    ['..\r\n.\r\n', '.\r\n', ''],
    ['..hidden\r\n.\r\n', '.hidden\r\n', ''],
    ['...\r\n.\r\n', '..\r\n', ''],
    ['.x\r\n.\r\n', 'x\r\n', ''],
    ['a\r\n..\r\nb\r\n.\r\n', 'a\r\n.\r\nb\r\n', ''],
    ['a.\r\nb .\r\n.\r\n', 'a.\r\nb .\r\n', ''],
    ['\r\n.\r\n', '\r\n', ''],
    ['\r\n\r\n.\r\n', '\r\n\r\n', ''],
    ['a\r\n. \r\n.\r\n', 'a\r\n \r\n', ''],
    ['\x00\xff\x80binary-ish\r\n.\r\n', '\x00\xff\x80binary-ish\r\n', ''],
    ['.\r\n.\r\n', '', '.\r\n'],
  ])('%j', (wire, body, rest) => {
    const r = decode(bytes(wire));
    expect(r).toEqual({ body, rest, size: body.length, error: null });
  });

  it('does not end without the terminator', () => {
    for (const wire of ['', 'a', 'a\r\n', 'a\r\n.', 'a\r\n.\r', '.', '.\r', 'a\r\n..\r\n', 'a\r\n.a\r\n']) {
      expect(decode(bytes(wire)), wire).toBeNull();
    }
  });

  it('emits views into the input, not copies', () => {
    const input = bytes('hello\r\nworld\r\n.\r\n');
    const r = new DataDecoder().feed(input);
    expect(r.chunks.length).toBe(1);
    expect(r.chunks[0]?.buffer).toBe(input.buffer);
  });

  it('refuses feed() after the end', () => {
    const d = new DataDecoder();
    d.feed(bytes('.\r\n'));
    expect(() => d.feed(bytes('x'))).toThrow();
  });

  it('ignores empty chunks', () => {
    const d = new DataDecoder();
    expect(d.feed(Buffer.alloc(0))).toEqual({ chunks: [], end: null });
    expect(d.feed(bytes('.\r\n')).end).not.toBeNull();
  });
});

describe('DataDecoder: SMTP smuggling battery (bare CR / bare LF, 2023)', () => {
  const vectors = [
    '\n.\n',
    '\r.\r',
    '\n.\r\n',
    '\r\n.\n',
    '\r\n.\r',
    '\r.\r\n',
    '\n.\r',
    '\r.\n',
    '\r\n.\r\r\n',
    '\r\n.\n\r\n',
    '\n\n.\n\n',
    '\r\r.\r\r',
    '\r\n\n.\r\n',
    '\r\n.\r.\r\n',
    '\r\n\x00.\r\n',
  ];

  it.each(vectors)('%j ends nothing and is refused with 550 5.5.2', (vector) => {
    // The smuggled command must stay message content; the data ends at the real terminator only.
    const smuggled = `Subject: x\r\n\r\nhello${vector}MAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\n`;
    const input = bytes(`${smuggled}ok\r\n.\r\nQUIT\r\n`);
    if (vector === '\r\n\x00.\r\n') {
      // control case: NUL then a real CRLF "." CRLF later: not bare, so accepted as data
      expect(decode(input)?.error).toBeNull();
      return;
    }
    for (const cuts of [
      [],
      [...Array(input.length).keys()],
      [smuggled.indexOf(vector) + 1],
      [smuggled.indexOf(vector) + 2],
    ]) {
      const r = decode(input, cuts);
      expect(r?.rest, JSON.stringify(cuts)).toBe('QUIT\r\n');
      expect(r?.error).toBe('550 5.5.2');
      // what came before the bare CR/LF may have been emitted (it is void now); nothing after it
      expect(r?.body).not.toContain('MAIL FROM');
    }
  });

  it.each(vectors.filter((v) => v !== '\r\n\x00.\r\n'))('%j at the very start is refused too', (vector) => {
    const r = decode(bytes(`${vector}x\r\n.\r\n`));
    expect(r?.error).toBe('550 5.5.2');
    expect(r?.rest).toBe('');
  });

  it('reports the error early, before the end', () => {
    const d = new DataDecoder();
    const r = d.feed(bytes('a\nb'));
    expect(r.end).toBeNull();
    expect(d.error?.code).toBe(550);
    expect(d.error?.enhanced).toBe('5.5.2');
  });

  it.each(['\r', '\n', 'a\rb', 'a\nb', '\r\r\n', 'a\n\r\n'])(
    'bare line end %j in a line is refused',
    (bad) => {
      expect(decode(bytes(`x${bad}\r\n.\r\n`))?.error).toBe('550 5.5.2');
    },
  );
});

describe('DataDecoder: limits', () => {
  it('accepts a message of exactly maxSize and refuses one octet more (552 5.3.4)', () => {
    const body = 'x'.repeat(8) + '\r\n'; // 10 octets
    expect(decode(bytes(`${body}.\r\n`), [], { maxSize: 10 })).toEqual({
      body,
      rest: '',
      size: 10,
      error: null,
    });
    const over = decode(bytes(`${body}y.\r\n`.replace('y.', 'y\r\n.')), [], { maxSize: 10 });
    expect(over?.error).toBe('552 5.3.4');
    expect(over?.size).toBe(13);
  });

  it('counts the size after unstuffing', () => {
    expect(decode(bytes('..\r\n.\r\n'), [], { maxSize: 3 })?.error).toBeNull();
  });

  it('keeps consuming after the limit and finds the real end', () => {
    const d = new DataDecoder({ maxSize: 5 });
    const a = d.feed(bytes('0123'));
    expect(a.chunks.map(String)).toEqual(['0123']);
    const b = d.feed(bytes('456789\r\n'));
    expect(b.chunks).toEqual([]); // nothing more is emitted once over the limit
    expect(d.error?.code).toBe(552);
    const c = d.feed(bytes('more\r\n.\r\nNOOP\r\n'));
    expect(c.end?.rest.toString()).toBe('NOOP\r\n');
    expect(c.end?.error?.toReplyString()).toBe('552 5.3.4 Message size exceeds fixed limit of 5 octets\r\n');
  });

  it('accepts a line of exactly maxLineLength octets with CRLF and refuses one more (500 5.5.2)', () => {
    const ok = `${'a'.repeat(998)}\r\n`;
    expect(decode(bytes(`${ok}.\r\n`), [], { maxLineLength: 1000 })?.error).toBeNull();
    const long = `${'a'.repeat(999)}\r\n`;
    expect(decode(bytes(`${long}.\r\n`), [], { maxLineLength: 1000 })?.error).toBe('500 5.5.2');
    expect(decode(bytes(`${long}.\r\n`), [500], { maxLineLength: 1000 })?.error).toBe('500 5.5.2');
  });

  it('measures lines on the wire, stuffed dot included', () => {
    expect(decode(bytes(`.${'a'.repeat(998)}\r\n.\r\n`), [], { maxLineLength: 1000 })?.error).toBe(
      '500 5.5.2',
    );
    expect(decode(bytes(`.${'a'.repeat(997)}\r\n.\r\n`), [], { maxLineLength: 1000 })?.error).toBeNull();
  });

  it('prefers the bare LF error over size and line length, whatever the split', () => {
    const input = bytes(`${'a'.repeat(50)}\nb\r\n.\r\n`);
    for (const cut of [0, 10, 50, 51]) {
      expect(decode(input, [cut], { maxSize: 5, maxLineLength: 10 })?.error).toBe('550 5.5.2');
    }
  });
});

// Interesting fragments, so random inputs hit the edge cases often.
const fragment = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      '\r\n',
      '.',
      '\r',
      '\n',
      'a',
      'b',
      ' ',
      '..',
      '\r\n.',
      '.\r',
      '\r\n.\r\n',
      '\r\n..\r\n',
    ),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 6 }).map((u) => Buffer.from(u).toString('latin1')) },
);
const wireInput = fc.array(fragment, { maxLength: 40 }).map((parts) => bytes(parts.join('')));
const withCuts = wireInput.chain((input) =>
  fc.tuple(fc.constant(input), fc.array(fc.nat({ max: Math.max(0, input.length) }), { maxLength: 12 })),
);
const limits = fc.record({
  maxSize: fc.option(fc.nat({ max: 40 }), { nil: undefined }),
  maxLineLength: fc.option(fc.integer({ min: 2, max: 20 }), { nil: undefined }),
});

describe('DataDecoder: properties (fast-check)', () => {
  it('matches the model for any input and any split', () => {
    fc.assert(
      fc.property(withCuts, limits, ([input, cuts], opts) => {
        const options: DataDecoderOptions = { ...opts };
        expect(comparable(decode(input, cuts, options))).toEqual(model(input, options));
      }),
      { numRuns: 3000 },
    );
  });

  it('gives the same outcome for every single split point and byte-by-byte', () => {
    fc.assert(
      fc.property(wireInput, limits, (input, options) => {
        const whole = comparable(decode(input, [], options));
        for (let cut = 1; cut < input.length; cut++)
          expect(comparable(decode(input, [cut], options))).toEqual(whole);
        expect(comparable(decode(input, [...Array(input.length).keys()], options))).toEqual(whole);
      }),
      { numRuns: 500 },
    );
  });

  // A body as a client would produce it: lines without CR/LF (possibly starting with dots).
  const line = fc
    .array(fc.constantFrom('.', 'a', ' ', '\x00', '\xff', '-'), { maxLength: 8 })
    .map((c) => c.join(''));
  const body = fc.array(line, { maxLength: 10 }).map((lines) => lines.map((l) => `${l}\r\n`).join(''));

  it('dot-stuff then decode gives the body back, for any split', () => {
    fc.assert(
      fc.property(
        body,
        fc.array(fc.nat({ max: 200 }), { maxLength: 8 }),
        fc.constantFrom('', 'QUIT\r\n', '.\r\n'),
        (text, cuts, after) => {
          const wire = Buffer.concat([dotStuff(bytes(text)), bytes(after)]);
          expect(decode(wire, cuts)).toEqual({ body: text, rest: after, size: text.length, error: null });
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a body without a final CRLF gets one from the stuffer', () => {
    fc.assert(
      fc.property(
        body,
        line.filter((l) => l !== ''),
        (text, tail) => {
          const r = decode(dotStuff(bytes(text + tail)));
          expect(r?.body).toBe(`${text}${tail}\r\n`);
        },
      ),
    );
  });

  it('DotStuffer gives the same bytes for any split of its input', () => {
    fc.assert(
      fc.property(withCuts, ([input, cuts]) => {
        const s = new DotStuffer();
        const points = [...new Set(cuts)].filter((c) => c > 0 && c < input.length).sort((a, b) => a - b);
        const out: Buffer[] = [];
        let from = 0;
        for (const p of [...points, input.length]) {
          out.push(s.feed(input.subarray(from, p)));
          from = p;
        }
        out.push(s.end());
        expect(Buffer.concat(out).toString('latin1')).toBe(dotStuff(input).toString('latin1'));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('dotStuff', () => {
  it.each([
    ['', '.\r\n'],
    ['a\r\n', 'a\r\n.\r\n'],
    ['a', 'a\r\n.\r\n'],
    ['.\r\n', '..\r\n.\r\n'],
    ['a\r\n.b\r\n', 'a\r\n..b\r\n.\r\n'],
    ['a\r\n.\r\n', 'a\r\n..\r\n.\r\n'],
    ['a\r', 'a\r\r\n.\r\n'],
  ])('%j → %j', (input, wire) => {
    expect(dotStuff(bytes(input)).toString('latin1')).toBe(wire);
  });

  it('returns the chunk itself when nothing needs doubling', () => {
    const chunk = bytes('abc\r\ndef\r\n');
    expect(new DotStuffer().feed(chunk)).toBe(chunk);
  });

  it('doubles a dot that starts a chunk after a line end in the previous chunk', () => {
    const s = new DotStuffer();
    expect(s.feed(bytes('a\r\n')).toString()).toBe('a\r\n');
    expect(s.feed(bytes('.b\r\n')).toString()).toBe('..b\r\n');
    expect(s.end().toString()).toBe('.\r\n');
  });
});
