import { describe, expect, it } from 'vitest';
import { TooManyHopsError } from './errors';
import { HeaderBlock } from './header-block';
import { parseHeaderFields } from './header-fields';
import { checkHops } from './hops';

const block = HeaderBlock.from(
  [
    'Received: from a.example (a.example [192.0.2.1])',
    '\tby mx.example.org with ESMTPS id 1; Thu, 26 Nov 2026 16:00:00 +0000',
    'received: from b by c; Thu, 26 Nov 2026 15:00:00 +0000',
    'From: =?UTF-8?B?QW5kcsOp?= <Andre@Example.FR>',
    'To: bob@example.org',
    'Subject: =?UTF-8?Q?caf=C3=A9?= =?UTF-8?Q?_au_lait?= and more',
    'Message-ID:  <abc.123@host.example>  (a comment)',
    'Date: Thu, 26 Nov 2026 17:00:00 +0100',
    'X-Empty:',
    '',
    '',
  ].join('\r\n'),
);

describe('HeaderBlock', () => {
  it('keeps the bytes and splits the separator off', () => {
    expect(block.separator.toString()).toBe('\r\n');
    expect(block.toBuffer().toString()).toMatch(/^Received: from a\.example/);
    expect(block.toBuffer().toString().endsWith('X-Empty:\r\n\r\n')).toBe(true);
    expect(block.size).toBe(block.toBuffer().length);
  });

  it('looks fields up case-insensitively, in order', () => {
    expect(block.count('RECEIVED')).toBe(2);
    expect(block.receivedCount).toBe(2);
    expect(block.getAll('Received')[1]).toBe('from b by c; Thu, 26 Nov 2026 15:00:00 +0000');
    expect(block.get('to')).toBe('bob@example.org');
    expect(block.get('x-empty')).toBe('');
    expect(block.has('X-Empty')).toBe(true);
    expect(block.has('Cc')).toBe(false);
    expect(block.getFields('received')[1].name).toBe('received');
  });

  it('unfolds (RFC 5322 §2.2.3) and keeps the raw bytes of each field', () => {
    const [first] = block.getFields('Received');
    expect(first.value).toBe(
      'from a.example (a.example [192.0.2.1])\tby mx.example.org with ESMTPS id 1; Thu, 26 Nov 2026 16:00:00 +0000',
    );
    expect(first.raw.toString()).toBe(
      'Received: from a.example (a.example [192.0.2.1])\r\n\tby mx.example.org with ESMTPS id 1; Thu, 26 Nov 2026 16:00:00 +0000\r\n',
    );
    expect(Buffer.concat(block.fields.map((f) => f.raw)).equals(block.raw)).toBe(true);
  });

  it('reads Message-ID, Date, From and Subject', () => {
    expect(block.messageId).toBe('<abc.123@host.example>');
    expect(block.date?.toISOString()).toBe('2026-11-26T16:00:00.000Z');
    expect(block.from).toEqual([
      { name: 'André', address: 'Andre@example.fr', local: 'Andre', domain: 'example.fr' },
    ]);
    expect(block.subject).toBe('café au lait and more');
  });

  it('gives undefined for absent or invalid fields', () => {
    const h = HeaderBlock.from('Message-ID: not-an-id\r\nDate: yesterday\r\n\r\n');
    expect(h.messageId).toBeUndefined();
    expect(h.date).toBeUndefined();
    expect(h.subject).toBeUndefined();
    expect(h.from).toEqual([]);
    expect(h.has('message-id')).toBe(true);
  });

  it('handles an empty block and a block that is only the separator', () => {
    expect(HeaderBlock.from('').fields).toEqual([]);
    const sepOnly = HeaderBlock.from('\r\n');
    expect(sepOnly.raw.length).toBe(0);
    expect(sepOnly.separator.toString()).toBe('\r\n');
  });
});

describe('parseHeaderFields', () => {
  it.each([
    ['Subject : spaced\r\n', 'Subject', 'spaced'],
    ['X-A:no-space\r\n', 'X-A', 'no-space'],
    ['X-B: a\r\n b\r\n\tc\r\n', 'X-B', 'a b\tc'],
    ['X-C: trailing   \r\n', 'X-C', 'trailing'],
    ['X-D: lf only\n next\n', 'X-D', 'lf only next'],
    ['X-E: caf\u00e9\r\n', 'X-E', 'café'],
  ])('%j', (raw, name, value) => {
    const [f] = parseHeaderFields(Buffer.from(raw, 'utf8'));
    expect([f.name, f.key, f.value]).toEqual([name, name.toLowerCase(), value]);
  });

  it('skips lines that are not fields', () => {
    expect(parseHeaderFields(Buffer.from('no colon\r\n: empty name\r\nA: 1\r\n')).map((f) => f.name)).toEqual(
      ['A'],
    );
  });
});

describe('checkHops (RFC 5321 §6.3)', () => {
  const withReceived = (n: number): HeaderBlock =>
    HeaderBlock.from(
      'Received: from x by y; Thu, 26 Nov 2026 16:00:00 +0000\r\n'.repeat(n) + 'Subject: s\r\n\r\n',
    );
  it.each([
    [0, 100, false],
    [100, 100, false],
    [101, 100, true],
    [3, 2, true],
  ])('%i Received fields, limit %i → throws %s', (n, limit, throws) => {
    const run = (): void => checkHops(withReceived(n), limit);
    if (throws) expect(run).toThrow(TooManyHopsError);
    else expect(run).not.toThrow();
  });

  it('answers 554 5.4.6', () => {
    try {
      checkHops(withReceived(2), 1);
      expect.unreachable();
    } catch (err) {
      expect((err as TooManyHopsError).toReplyString()).toMatch(/^554 5\.4\.6 Too many hops/);
    }
  });
});
