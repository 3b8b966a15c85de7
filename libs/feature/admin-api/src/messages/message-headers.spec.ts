import { describe, expect, it } from 'vitest';
import { parseHeaders } from './message-headers';

describe('parseHeaders', () => {
  it('reads fields up to the empty line and unfolds continuation lines', () => {
    const raw = Buffer.from(
      'From: a@example.com\r\nSubject: one\r\n\ttwo\r\nX-Empty:\r\n\r\nBody: not a header\r\n',
    );
    expect(parseHeaders(raw)).toEqual([
      { name: 'From', value: 'a@example.com' },
      { name: 'Subject', value: 'one two' },
      { name: 'X-Empty', value: '' },
    ]);
  });

  it('decodes UTF-8 (RFC 6532) and copes with a message without body', () => {
    expect(parseHeaders(Buffer.from('Subject: Grüße'))).toEqual([{ name: 'Subject', value: 'Grüße' }]);
  });
});
