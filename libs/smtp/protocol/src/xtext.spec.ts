import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeXtext, encodeXtext } from './xtext';

describe('xtext (RFC 3461 §4)', () => {
  it.each([
    ['', ''],
    ['abc', 'abc'],
    ['a+2Bb', 'a+b'],
    ['+3D', '='],
    ['a+20b', 'a b'],
    ['<user@example.com>', '<user@example.com>'],
    ['+C3+A9', 'é'],
  ])('decodes %j', (text, value) => {
    expect(decodeXtext(text)).toBe(value);
  });

  it.each(['a+', 'a+2', 'a+2b', 'a+GG', 'a=b', 'a b', 'é', 'a\tb', '+2B+'])('refuses %j', (text) => {
    expect(decodeXtext(text)).toBeNull();
  });

  it.each([
    ['a+b', 'a+2Bb'],
    ['a=b', 'a+3Db'],
    ['a b', 'a+20b'],
    ['é', '+C3+A9'],
    // from the client's envelope tests (ENVID, ORCPT)
    ['a+b=c d', 'a+2Bb+3Dc+20d'],
    ['ü', '+C3+BC'],
  ])('encodes %j', (value, text) => {
    expect(encodeXtext(value)).toBe(text);
  });

  it('round-trips any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        const text = encodeXtext(s);
        expect(text).toMatch(/^[!-~]*$/);
        expect(decodeXtext(text)).toBe(s);
      }),
    );
  });
});
