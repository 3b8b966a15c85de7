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
    ['UTF-8 headers declared without SMTPUTF8', msg({ smtpUtf8: true }), ['8BITMIME'], 554, '5.6.7'],
    ['8-bit Buffer without 8BITMIME (RFC 6152)', msg({ body: Buffer.from('é\r\n') }), [], 554, '5.6.3'],
    ['REQUIRETLS without TLS (RFC 8689)', msg({ requireTls: true }), ['REQUIRETLS'], 550, '5.7.30'],
    ['bare LF in a Buffer for DATA', msg({ body: Buffer.from('a\nb\r\n') }), [], 554, '5.6.0'],
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

  it('declares 8-bit for a stream of unknown content only when the peer offers 8BITMIME', async () => {
    const { Readable } = await import('node:stream');
    const stream = () => msg({ body: Readable.from([]) });
    expect(verdict(stream(), ['8BITMIME'])).toMatchObject({ eightBit: true, reject8bit: false });
    expect(verdict(stream(), [])).toMatchObject({ eightBit: false, reject8bit: true });
  });
});
