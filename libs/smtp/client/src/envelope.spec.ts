import { describe, expect, it } from 'vitest';
import { parseCapabilityLines } from '@mta/smtp-protocol';
import { assertSafeAddress, mailCommand, needsSmtpUtf8, headerHasNonAscii, rcptCommand } from './envelope';

const all = parseCapabilityLines(['SIZE 1000', '8BITMIME', 'SMTPUTF8', 'DSN', 'REQUIRETLS']);
const none = parseCapabilityLines([]);

describe('envelope commands', () => {
  it('adds MAIL parameters only for announced extensions', () => {
    const p = {
      size: 123,
      eightBit: true,
      smtpUtf8: true,
      requireTls: true,
      dsn: { ret: 'HDRS' as const, envid: 'id+1' },
    };
    expect(mailCommand('a@b', all, p)).toBe(
      'MAIL FROM:<a@b> SIZE=123 BODY=8BITMIME SMTPUTF8 REQUIRETLS RET=HDRS ENVID=id+2B1',
    );
    expect(mailCommand('a@b', none, p)).toBe('MAIL FROM:<a@b>');
    expect(mailCommand('', all, { size: null, eightBit: false, smtpUtf8: false, requireTls: false })).toBe(
      'MAIL FROM:<>',
    );
  });

  it('adds NOTIFY/ORCPT only with DSN (RFC 3461 §4.1, §4.2)', () => {
    const r = { address: 'x@y', notify: ['FAILURE', 'DELAY'] as const, orcpt: 'X@Y' };
    expect(rcptCommand(r, all)).toBe('RCPT TO:<x@y> NOTIFY=FAILURE,DELAY ORCPT=rfc822;X@Y');
    expect(rcptCommand({ address: 'x@y', notify: ['NEVER', 'SUCCESS'] }, all)).toBe(
      'RCPT TO:<x@y> NOTIFY=NEVER',
    );
    expect(rcptCommand(r, none)).toBe('RCPT TO:<x@y>');
  });

  it('detects SMTPUTF8 needs and unsafe addresses', () => {
    expect(needsSmtpUtf8('user@example.org')).toBe(false);
    expect(needsSmtpUtf8('jörg@example.org')).toBe(true);
    expect(() => assertSafeAddress('a@b>\r\nRCPT TO:<c@d')).toThrow(TypeError);
  });

  it('finds non-ASCII in the header block only (RFC 6532)', () => {
    const b = (s: string) => Buffer.from(s, 'utf8');
    expect(headerHasNonAscii(b('Subject: Grüße\r\n\r\nbody\r\n'))).toBe(true);
    expect(headerHasNonAscii(b('Subject: x\r\n\r\nGrüße\r\n'))).toBe(false);
    expect(headerHasNonAscii(b('\r\nGrüße\r\n'))).toBe(false); // empty header block
    expect(headerHasNonAscii(b('Subject: x\r\nX: é'))).toBe(true); // no body, cut short
    expect(headerHasNonAscii(b('Subject: x\r\nX: y'))).toBe(false);
  });
});
