import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertCrlf,
  BareLineEndingError,
  DotStuffer,
  dotStuff,
  EightBitError,
  hasEightBit,
  type DotStufferOptions,
} from './dot-stuffer';

// The unchecked DotStuffer and dotStuff are also covered in data-decoder.spec.ts, against the decoder.

function stuff(parts: string[], reject8bit = false): string {
  const s = new DotStuffer({ requireCrlf: true, reject8bit });
  const out = parts.map((p) => s.feed(Buffer.from(p, 'latin1')));
  out.push(s.end());
  return Buffer.concat(out).toString('latin1');
}

describe('DotStuffer (RFC 5321 §4.5.2)', () => {
  it.each([
    ['plain', ['a\r\nb\r\n'], 'a\r\nb\r\n.\r\n'],
    ['leading dot on first line', ['.x\r\n'], '..x\r\n.\r\n'],
    ['line that is only a dot', ['a\r\n.\r\nb\r\n'], 'a\r\n..\r\nb\r\n.\r\n'],
    ['dot after a chunk boundary', ['a\r\n', '.b\r\n'], 'a\r\n..b\r\n.\r\n'],
    ['CRLF split across chunks', ['a\r', '\n.b\r\n'], 'a\r\n..b\r\n.\r\n'],
    ['missing final CRLF is added', ['a\r\nno newline'], 'a\r\nno newline\r\n.\r\n'],
    ['empty body', [], '.\r\n'],
    ['dot not at line start untouched', ['a.b\r\n'], 'a.b\r\n.\r\n'],
  ])('%s', (_name, parts, expected) => {
    expect(stuff(parts)).toBe(expected);
  });

  it.each([
    ['bare LF', ['a\nb\r\n'], 'LF'],
    ['bare CR', ['a\rb\r\n'], 'CR'],
    ['CR at end of input', ['a\r'], 'CR'],
  ])('refuses %s', (_name, parts, which) => {
    try {
      stuff(parts);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(BareLineEndingError);
      expect((e as BareLineEndingError).which).toBe(which);
    }
  });

  it('refuses 8-bit bytes only when asked', () => {
    expect(stuff(['caf\xe9\r\n'])).toBe('caf\xe9\r\n.\r\n');
    expect(() => stuff(['caf\xe9\r\n'], true)).toThrow(EightBitError);
    expect(hasEightBit(Buffer.from('abc'))).toBe(false);
    expect(hasEightBit(Buffer.from('é'))).toBe(true);
  });
});

describe('assertCrlf', () => {
  it.each([
    ['a\r\nb\r\n', null],
    ['', null],
    ['a\nb', 'LF'],
    ['\nb', 'LF'],
    ['a\rb', 'CR'],
    ['a\r', 'CR'],
  ])('%j → %s', (input, which) => {
    const run = () => assertCrlf(Buffer.from(input));
    if (which === null) expect(run).not.toThrow();
    else expect(run).toThrow(which === 'LF' ? /bare LF/ : /bare CR/);
  });
});

describe('DotStuffer with checks, for any split of its input', () => {
  const input = fc
    .array(fc.constantFrom('a', '.', '\r', '\n', '\r\n', '\r\n.', '\xe9'), { maxLength: 24 })
    .map((p) => Buffer.from(p.join(''), 'latin1'));
  const cuts = fc.array(fc.nat({ max: 60 }), { maxLength: 6 });
  const options = fc.record({ requireCrlf: fc.boolean(), reject8bit: fc.boolean() });

  /** The bytes, or the first error as `which@offset`, feeding `body` cut at `at`. */
  function run(body: Buffer, at: readonly number[], o: DotStufferOptions): string {
    const points = [...new Set(at)].filter((c) => c > 0 && c < body.length).sort((a, b) => a - b);
    const s = new DotStuffer(o);
    const out: Buffer[] = [];
    try {
      let from = 0;
      for (const p of [...points, body.length]) {
        out.push(s.feed(body.subarray(from, p)));
        from = p;
      }
      out.push(s.end());
    } catch (e) {
      if (e instanceof BareLineEndingError) return `${e.which}@${e.offset}`;
      if (e instanceof EightBitError) return `8bit@${e.offset}`;
      throw e;
    }
    return Buffer.concat(out).toString('latin1');
  }

  /** Obviously correct: the first bare CR/LF or 8-bit octet of the whole input. */
  function firstFault(body: Buffer, o: DotStufferOptions): string | null {
    for (let i = 0; i < body.length; i++) {
      const b = body[i];
      if (o.requireCrlf && b === 0x0d && body[i + 1] !== 0x0a) return `CR@${i}`;
      if (o.requireCrlf && b === 0x0a && body[i - 1] !== 0x0d) return `LF@${i}`;
      if (o.reject8bit && b >= 0x80) return `8bit@${i}`;
    }
    return null;
  }

  it('gives the unchecked bytes, or the first fault, whatever the split', () => {
    fc.assert(
      fc.property(input, cuts, options, (body, at, o) => {
        expect(run(body, at, o)).toBe(firstFault(body, o) ?? dotStuff(body).toString('latin1'));
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with assertCrlf and hasEightBit on whole bodies', () => {
    fc.assert(
      fc.property(input, (body) => {
        const crlfOk = firstFault(body, { requireCrlf: true }) === null;
        if (crlfOk) expect(() => assertCrlf(body)).not.toThrow();
        else expect(() => assertCrlf(body)).toThrow(BareLineEndingError);
        expect(hasEightBit(body)).toBe(firstFault(body, { reject8bit: true }) !== null);
      }),
      { numRuns: 500 },
    );
  });
});
