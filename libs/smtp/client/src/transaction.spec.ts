import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseCapabilityLines } from '@mta/smtp-protocol';
import type { Connection } from './connection';
import { DEFAULT_TIMEOUTS } from './timeouts';
import { prepare, type OutgoingMessage } from './transaction';

/** prepare() decides before anything is sent; it never touches the connection. */
const ctx = (lines: string[], tlsActive = false) => ({
  conn: {} as Connection,
  caps: parseCapabilityLines(lines),
  timeouts: DEFAULT_TIMEOUTS,
  tlsActive,
});
const msg = (over: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  from: 's@example.org',
  recipients: ['a@example.net'],
  body: Buffer.from('Subject: x\r\n\r\nhi\r\n'),
  ...over,
});
const verdict = (m: OutgoingMessage, lines: string[], tls = false) =>
  prepare(
    m,
    ctx(lines, tls),
    m.recipients.map((r) => (typeof r === 'string' ? { address: r } : r)),
  );

describe('prepare: local verdicts before sending', () => {
  it.each([
    ['over the SIZE limit (RFC 1870 §6)', msg({ size: 2000 }), ['SIZE 1000'], 552, '5.3.4'],
    [
      'UTF-8 recipient without SMTPUTF8 (RFC 6531 §3.4)',
      msg({ recipients: ['ü@example.net'] }),
      ['8BITMIME'],
      554,
      '5.6.7',
    ],
    [
      'a SMTPUTF8 message with a UTF-8 header, without SMTPUTF8 (RFC 6532)',
      msg({ smtpUtf8: true, body: Buffer.from('Subject: Grüße\r\n\r\nhi\r\n') }),
      ['8BITMIME'],
      554,
      '5.6.7',
    ],
    [
      'a SMTPUTF8 stream of unknown header, without SMTPUTF8',
      msg({ smtpUtf8: true, body: Readable.from([]) }),
      ['8BITMIME'],
      554,
      '5.6.7',
    ],
    [
      'a stream declared with a UTF-8 header, without SMTPUTF8',
      msg({ smtpUtf8: true, utf8Headers: true, body: Readable.from([]) }),
      ['8BITMIME'],
      554,
      '5.6.7',
    ],
    ['8-bit Buffer without 8BITMIME (RFC 6152)', msg({ body: Buffer.from('é\r\n') }), [], 554, '5.6.3'],
    ['REQUIRETLS without TLS (RFC 8689)', msg({ requireTls: true }), ['REQUIRETLS'], 550, '5.7.30'],
    ['bare LF in a Buffer for DATA', msg({ body: Buffer.from('a\nb\r\n') }), [], 554, '5.6.0'],
    ['a NUL in a Buffer for DATA', msg({ body: Buffer.from('a\r\n\x00.\r\n') }), [], 554, '5.6.0'],
    ['a NUL in a Buffer for BDAT', msg({ body: Buffer.from('a\x00b\r\n') }), ['CHUNKING'], 554, '5.6.0'],
  ])('refuses %s', (_name, m, lines, code, enhanced) => {
    expect(verdict(m, lines)).toMatchObject({ code, enhanced, kind: 'failed', source: 'local' });
  });

  it.each([
    ['SIZE 0 means no limit', msg({ size: 10 ** 9 }), ['SIZE 0']],
    ['SIZE not offered', msg({ size: 10 ** 9 }), []],
    ['REQUIRETLS over TLS to a REQUIRETLS peer', msg({ requireTls: true }), ['REQUIRETLS']],
  ])('accepts: %s', (_name, m, lines) => {
    expect(verdict(m, lines, true)).not.toHaveProperty('kind');
  });

  // RFC 6531 §3.4: flagged SMTPUTF8, but nothing needs it: sent without the parameter.
  it.each([
    [
      'ASCII addresses and header (Buffer)',
      msg({ smtpUtf8: true, body: Buffer.from('Subject: x\r\n\r\nGrüße\r\n') }),
    ],
    [
      'a stream declared ASCII in its header',
      msg({ smtpUtf8: true, utf8Headers: false, body: Readable.from([]) }),
    ],
  ])('sends a SMTPUTF8 message to a peer without SMTPUTF8 when nothing needs it: %s', (_name, m) => {
    const p = verdict(m, ['8BITMIME']);
    expect(p).not.toHaveProperty('kind');
    // The parameter is still wanted (it goes to peers that offer it); mailCommand drops it here.
    expect(p).toMatchObject({ smtpUtf8: true });
  });

  it('does not make an unflagged message SMTPUTF8 for a UTF-8 header (no autodetection)', () => {
    const p = verdict(msg({ body: Buffer.from('Subject: Grüße\r\n\r\nhi\r\n') }), ['8BITMIME']);
    expect(p).toMatchObject({ smtpUtf8: false, eightBit: true });
  });

  it('declares 8-bit for a stream of unknown content only when the peer offers 8BITMIME', () => {
    const stream = () => msg({ body: Readable.from([]) });
    expect(verdict(stream(), ['8BITMIME'])).toMatchObject({ eightBit: true, reject8bit: false });
    expect(verdict(stream(), [])).toMatchObject({ eightBit: false, reject8bit: true });
  });
});
