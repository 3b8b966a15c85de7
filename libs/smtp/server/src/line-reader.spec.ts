import { describe, expect, it } from 'vitest';
import { LineReader, TOO_LONG } from './line-reader';

const take = (r: LineReader, max = 16) => {
  const out: (string | symbol)[] = [];
  for (let l = r.takeLine(max); l !== null; l = r.takeLine(max)) out.push(l === TOO_LONG ? l : l.toString());
  return out;
};

describe('LineReader', () => {
  it('splits CRLF and bare-LF lines and keeps partial ones', () => {
    const r = new LineReader();
    r.push(Buffer.from('NOOP\r\nRSET\nQU'));
    expect(take(r)).toEqual(['NOOP', 'RSET']);
    r.push(Buffer.from('IT\r\n'));
    expect(take(r)).toEqual(['QUIT']);
    expect(r.length).toBe(0);
  });

  it('accepts a line of exactly the limit (with CRLF) and refuses one octet more', () => {
    const r = new LineReader();
    r.push(Buffer.from('x'.repeat(14) + '\r\n' + 'y'.repeat(15) + '\r\nNOOP\r\n'));
    expect(take(r)).toEqual(['x'.repeat(14), TOO_LONG, 'NOOP']);
  });

  it('drops an over-long line without buffering it, then reports it once at its LF', () => {
    const r = new LineReader();
    for (let i = 0; i < 100; i++) {
      r.push(Buffer.alloc(1000, 0x61));
      expect(r.takeLine(16)).toBeNull();
      expect(r.length).toBeLessThan(1000);
    }
    r.push(Buffer.from('aaa\r\nNOOP\r\n'));
    expect(take(r)).toEqual([TOO_LONG, 'NOOP']);
  });

  it('handles a line split byte by byte', () => {
    const r = new LineReader();
    const out: (string | symbol)[] = [];
    for (const b of Buffer.from('EHLO a\r\nNOOP\r\n')) {
      r.push(Buffer.from([b]));
      out.push(...take(r));
    }
    expect(out).toEqual(['EHLO a', 'NOOP']);
  });

  it('unshift, takeAll and clear', () => {
    const r = new LineReader();
    r.push(Buffer.from('B\r\n'));
    r.unshift(Buffer.from('A\r\n'));
    expect(take(r)).toEqual(['A', 'B']);
    r.push(Buffer.from('rest'));
    expect(r.takeAll()?.toString()).toBe('rest');
    r.push(Buffer.from('x'));
    r.clear();
    expect(r.length).toBe(0);
  });
});
