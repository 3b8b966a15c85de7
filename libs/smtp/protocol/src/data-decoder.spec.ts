import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataDecoder, type DataDecoderOptions } from './data-decoder';
import type { BareNewlinePolicy } from './content-rules';
import { assertNoNul, DotStuffer, dotStuff, NulError } from './dot-stuffer';

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
const POLICIES: readonly BareNewlinePolicy[] = ['reject', 'normalize'];

/**
 * An obviously-correct model over the whole input. Line starts are offset 0 and every offset after
 * a CR LF pair (and, under `normalize`, after a bare LF); the end is the first line start that
 * follows CRLF (or is offset 0) followed by ".\r\n". Content rules: bare CR always refused, bare
 * LF refused under `reject`, a lone "." line touching a bare LF refused under `normalize`, NUL
 * refused; ranks bare > NUL > size > line length.
 */
function model(input: Buffer, options: DataDecoderOptions = {}): Outcome | null {
  const s = input.toString('latin1');
  const normalize = options.bareNewline === 'normalize';
  const starts = [0];
  const afterBareLf = new Set<number>();
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\r' && s[i + 1] === '\n') starts.push(i + 2);
    else if (normalize && s[i] === '\n' && s[i - 1] !== '\r') {
      starts.push(i + 1);
      afterBareLf.add(i + 1);
    }
  }
  const end = starts.find((k) => !afterBareLf.has(k) && s.startsWith('.\r\n', k));
  if (end === undefined) return null;
  const data = s.slice(0, end);
  let bare = false;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === '\n' && data[i - 1] !== '\r' && !normalize) bare = true;
    if (data[i] === '\r' && data[i + 1] !== '\n') bare = true;
  }
  const within = starts.filter((k) => k < end);
  for (const k of within) {
    if (data.startsWith('.\n', k) || (afterBareLf.has(k) && data.startsWith('.\r\n', k))) bare = true;
  }
  const lines = within.map((k, idx, arr) => data.slice(k, arr[idx + 1] ?? end));
  const body = lines
    .map((l) => (l.startsWith('.') ? l.slice(1) : l))
    .map((l) => (l.endsWith('\n') && !l.endsWith('\r\n') ? `${l.slice(0, -1)}\r\n` : l))
    .join('');
  let error: string | null = null;
  if (options.maxLineLength !== undefined && lines.some((l) => l.length > (options.maxLineLength as number)))
    error = '500 5.5.2';
  if (options.maxSize !== undefined && body.length > options.maxSize) error = '552 5.3.4';
  if (data.includes('\x00')) error = '550 5.6.0';
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
    ['\xff\x80eight-bit\r\n.\r\n', '\xff\x80eight-bit\r\n', ''],
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

  const cases = vectors.flatMap((v) => POLICIES.map((p) => [v, p] as const));
  it.each(cases)('%j ends nothing and is refused (bareNewline %s)', (vector, bareNewline) => {
    // The smuggled command must stay message content; the data ends at the real terminator only.
    const smuggled = `Subject: x\r\n\r\nhello${vector}MAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\n`;
    const input = bytes(`${smuggled}ok\r\n.\r\nQUIT\r\n`);
    // A NUL is no line end, but a receiver that strips NULs would see CRLF.CRLF: refused too.
    const expected = vector.includes('\x00') ? '550 5.6.0' : '550 5.5.2';
    for (const cuts of [
      [],
      [...Array(input.length).keys()],
      [smuggled.indexOf(vector) + 1],
      [smuggled.indexOf(vector) + 2],
    ]) {
      const r = decode(input, cuts, { bareNewline });
      expect(r?.rest, JSON.stringify(cuts)).toBe('QUIT\r\n');
      expect(r?.error).toBe(expected);
      // what came before the bare CR/LF may have been emitted (it is void now); nothing after it
      expect(r?.body).not.toContain('MAIL FROM');
    }
  });

  it.each(cases.filter(([v]) => !v.includes('\x00')))(
    '%j at the very start is refused too (%s)',
    (vector, bareNewline) => {
      const r = decode(bytes(`${vector}x\r\n.\r\n`), [], { bareNewline });
      expect(r?.error).toBe('550 5.5.2');
      expect(r?.rest).toBe('');
    },
  );

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

describe('DataDecoder: content rules (content-rules.ts), table over both bareNewline policies', () => {
  it.each([
    // [wire after DATA, policy, body or error]
    ['a\nb\r\n.\r\n', 'reject', '550 5.5.2'],
    ['a\nb\r\n.\r\n', 'normalize', 'a\r\nb\r\n'],
    ['a\n\nb\r\n.\r\n', 'reject', '550 5.5.2'],
    ['a\n..b\n\r\n.\r\n', 'normalize', 'a\r\n.b\r\n\r\n'],
    ['a\rb\r\n.\r\n', 'reject', '550 5.5.2'],
    ['a\rb\r\n.\r\n', 'normalize', '550 5.5.2'],
    ['Subject: hi\rFrom: ceo@victim.test\r\n\r\nx\r\n.\r\n', 'normalize', '550 5.5.2'],
    ['a\x00b\r\n.\r\n', 'reject', '550 5.6.0'],
    ['a\x00b\r\n.\r\n', 'normalize', '550 5.6.0'],
    ['\x00\r\n.\r\n', 'normalize', '550 5.6.0'],
    ['a\n.\r\nb\r\n.\r\n', 'normalize', '550 5.5.2'],
    ['a\r\n.\nb\r\n.\r\n', 'normalize', '550 5.5.2'],
    ['a\n.\nb\r\n.\r\n', 'normalize', '550 5.5.2'],
  ] as const)('%j under %s: %j', (wire, bareNewline, expected) => {
    const r = decode(bytes(wire), [], { bareNewline });
    if (expected.startsWith('550')) expect(r?.error).toBe(expected);
    else expect(r).toEqual({ body: expected, rest: '', size: expected.length, error: null });
    expect(r?.rest).toBe('');
  });

  it('normalize: the data still ends only at CRLF.CRLF, never at LF.CRLF', () => {
    expect(decode(bytes('a\n.\r\n'), [], { bareNewline: 'normalize' })).toBeNull();
    expect(decode(bytes('a\r\n.\n'), [], { bareNewline: 'normalize' })).toBeNull();
  });

  it('normalize: a bare LF line counts toward the line limit as on the wire', () => {
    const opts = { bareNewline: 'normalize', maxLineLength: 1000 } as const;
    expect(decode(bytes(`${'a'.repeat(999)}\n.\r\n`.replace('\n.', '\n\r\n.')), [], opts)?.error).toBeNull();
    expect(decode(bytes(`${'a'.repeat(1000)}\n\r\n.\r\n`), [], opts)?.error).toBe('500 5.5.2');
  });
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
  bareNewline: fc.constantFrom(...POLICIES),
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
    .array(fc.constantFrom('.', 'a', ' ', '\x01', '\xff', '-'), { maxLength: 8 })
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

  it('rejectNul throws NulError with the offset, across chunks; assertNoNul does the same', () => {
    const s = new DotStuffer({ rejectNul: true });
    expect(s.feed(bytes('ab\r\n')).toString()).toBe('ab\r\n');
    expect(() => s.feed(bytes('c\x00'))).toThrow(NulError);
    expect(() => new DotStuffer({ rejectNul: true }).feed(bytes('a\r\n\x00.\r\n'))).toThrow(/at byte 3/);
    expect(new DotStuffer().feed(bytes('\x00')).toString('latin1')).toBe('\x00'); // off by default
    expect(() => assertNoNul(bytes('x\x00'), 10)).toThrow(/at byte 11/);
    expect(() => assertNoNul(bytes('x'))).not.toThrow();
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
