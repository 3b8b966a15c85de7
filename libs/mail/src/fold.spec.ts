import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unfold } from './header-fields';
import { foldHeader } from './fold';

const lines = (field: string): string[] => field.replace(/\r\n$/, '').split('\r\n');

describe('foldHeader (RFC 5322 §2.1.1, §2.2.3)', () => {
  it('leaves a short field on one line', () => {
    expect(foldHeader('Subject', 'hello world')).toBe('Subject: hello world\r\n');
  });

  it('folds before a space so that no line passes 78 characters', () => {
    const value = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    const field = foldHeader('X-Long', value);
    for (const l of lines(field)) expect(l.length).toBeLessThanOrEqual(78);
    expect(lines(field).length).toBeGreaterThan(1);
    expect(unfold(Buffer.from(field.replace(/\r\n$/, '')))).toBe(`X-Long: ${value}`);
  });

  it('keeps segments whole when they fit on a line', () => {
    const field = foldHeader('Received', [
      'from a.example (a.example [192.0.2.1])',
      'by mx.example.org (mta) with ESMTPS id ABC',
      'for <b@example.org>;',
      'Thu, 26 Nov 2026 16:00:00 +0000',
    ]);
    expect(lines(field)).toEqual([
      'Received: from a.example (a.example [192.0.2.1])',
      ' by mx.example.org (mta) with ESMTPS id ABC for <b@example.org>;',
      ' Thu, 26 Nov 2026 16:00:00 +0000',
    ]);
  });

  it('puts a word longer than the line on a line of its own', () => {
    const long = 'x'.repeat(100);
    expect(lines(foldHeader('X', `a ${long} b`))).toEqual(['X: a', ` ${long}`, ' b']);
  });

  it('never makes a line of white space only, even with runs of spaces', () => {
    const field = foldHeader('X', `${'a'.repeat(70)}      ${'b'.repeat(20)}`);
    for (const l of lines(field)) expect(l.trim()).not.toBe('');
  });

  it('refuses CR, LF and bad names (no header injection)', () => {
    expect(() => foldHeader('X', 'a\r\nBcc: evil@example.com')).toThrow(RangeError);
    expect(() => foldHeader('X', 'a\nb')).toThrow(RangeError);
    expect(() => foldHeader('Bad Name', 'a')).toThrow(RangeError);
    expect(() => foldHeader('X:', 'a')).toThrow(RangeError);
  });

  it('unfolds back to the value, and keeps lines ≤ 78 where words allow (property)', () => {
    const word = fc.stringMatching(/^[!-~]{1,20}$/);
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 40 }), (words) => {
        const value = words.join(' ');
        const field = foldHeader('X-Test', value);
        expect(field.endsWith('\r\n')).toBe(true);
        expect(unfold(Buffer.from(field.slice(0, -2)))).toBe(`X-Test: ${value}`);
        for (const l of lines(field)) expect(l.length).toBeLessThanOrEqual(78);
      }),
    );
  });
});
