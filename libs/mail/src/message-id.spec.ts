import { describe, expect, it } from 'vitest';
import { HeaderBlock } from './header-block';
import { generateMessageId, parseMessageId, submissionHeaders } from './message-id';

describe('generateMessageId', () => {
  it('is a valid, unique msg-id on our host (RFC 5322 §3.6.4)', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const id = generateMessageId('mx.example.org');
      expect(parseMessageId(id)).toBe(id);
      expect(id).toMatch(/^<[0-9a-z]+\.[0-9a-f]{16}@mx\.example\.org>$/);
      ids.add(id);
    }
    expect(ids.size).toBe(1000);
  });

  it('starts with the time, so ids sort roughly by creation', () => {
    const id = generateMessageId('h.example', new Date('2026-11-26T16:00:00Z'));
    expect(id.startsWith(`<${Date.parse('2026-11-26T16:00:00Z').toString(36)}.`)).toBe(true);
  });

  it('takes a trailing-dot host name and an address literal; refuses junk', () => {
    expect(generateMessageId('mx.example.org.')).toMatch(/@mx\.example\.org>$/);
    expect(generateMessageId('[192.0.2.1]')).toMatch(/@\[192\.0\.2\.1\]>$/);
    expect(() => generateMessageId('bad host')).toThrow(RangeError);
    expect(() => generateMessageId('a>b')).toThrow(RangeError);
  });
});

describe('parseMessageId', () => {
  it.each([
    ['<a@b>', '<a@b>'],
    ['  <abc.def@host.example>  ', '<abc.def@host.example>'],
    ['(comment) <x@y.z> (another)', '<x@y.z>'],
    ['<x@[192.0.2.1]>', '<x@[192.0.2.1]>'],
    ['<ünï@cödé.example>', '<ünï@cödé.example>'],
    ['a@b', undefined],
    ['<a>', undefined],
    ['<a@b@c>', undefined],
    ['<.a@b>', undefined],
    ['<a..b@c>', undefined],
    ['<a@b> <c@d>', undefined],
    ['', undefined],
  ])('%j → %j', (value, expected) => expect(parseMessageId(value)).toBe(expected));
});

describe('submissionHeaders (RFC 6409 §8.2 Date, §8.3 Message-ID)', () => {
  const now = new Date('2026-11-26T16:00:00Z');
  it('adds both when both are missing', () => {
    const lines = submissionHeaders(HeaderBlock.from('Subject: s\r\n\r\n'), {
      hostname: 'sub.example.org',
      now,
    });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^Message-ID: <[0-9a-z]+\.[0-9a-f]{16}@sub\.example\.org>\r\n$/);
    expect(lines[1]).toBe('Date: Thu, 26 Nov 2026 16:00:00 +0000\r\n');
  });

  it.each([
    ['Message-ID: <a@b>\r\nDate: Thu, 26 Nov 2026 16:00:00 +0000\r\n\r\n', []],
    ['message-id: <a@b>\r\n\r\n', ['Date']],
    ['DATE: x\r\n\r\n', ['Message-ID']],
    ['Message-ID: broken\r\n\r\n', ['Date']],
  ])('%j adds %j', (text, names) => {
    const lines = submissionHeaders(HeaderBlock.from(text), {
      hostname: 'h.example',
      now,
      offsetMinutes: 60,
    });
    expect(lines.map((l) => l.split(':')[0])).toEqual(names);
  });
});
