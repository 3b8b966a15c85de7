import { smtpReply, SmtpError } from '@mta/smtp-protocol';
import { describe, expect, it } from 'vitest';
import { DeliveryError, kindOfCode } from './errors';

describe('DeliveryError', () => {
  it("is the protocol's SmtpError plus stage, source and kind", () => {
    const e = DeliveryError.refused('rcpt', smtpReply(550, '5.1.1', ['no such', 'user']));
    expect(e).toBeInstanceOf(SmtpError);
    expect(e.name).toBe('DeliveryError');
    expect(e).toMatchObject({ code: 550, enhanced: '5.1.1', text: 'no such user', permanent: true });
    expect(e).toMatchObject({ stage: 'rcpt', source: 'remote', kind: 'failed' });
    expect(e.message).toBe('550 5.1.1 no such user');
    expect(e.toReplyString()).toBe('550 5.1.1 no such user\r\n');
  });

  it('keeps the kind it is given (AUTH 535 is deferred)', () => {
    const e = DeliveryError.refused('auth', smtpReply(535, '5.7.8', 'bad credentials'), 'deferred');
    expect(e).toMatchObject({ kind: 'deferred', permanent: true, source: 'remote' });
  });

  it('uses the code as text when the reply has none', () => {
    expect(DeliveryError.refused('greeting', smtpReply(554, undefined, '')).text).toBe('554');
    expect(DeliveryError.refused('mail', smtpReply(451, '4.3.0', '')).text).toBe('451 4.3.0');
  });

  it.each([250, 334, 354])('turns an out-of-step %i into a local temporary failure', (code) => {
    const e = DeliveryError.refused('auth', { code, lines: ['what'] }, 'failed');
    expect(e).toMatchObject({
      code: 421,
      enhanced: '4.5.0',
      kind: 'deferred',
      source: 'local',
      stage: 'auth',
    });
    expect(e.text).toBe(`unexpected reply ${code} what`);
  });

  it('keeps control characters out of the reply text', () => {
    const e = DeliveryError.refused('rcpt', { code: 550, lines: ['tab\there', 'bell\x07!'] });
    expect(e.text).toBe('tab here bell !');
    const local = DeliveryError.local('data', '4.3.0', 'line one\r\nline two', new Error('x'));
    expect(local.text).toBe('line one  line two');
    expect(local.cause).toBeInstanceOf(Error);
  });

  it('local and permanent verdicts', () => {
    expect(DeliveryError.local('connect', '4.4.1', 'refused')).toMatchObject({
      code: 421,
      kind: 'deferred',
      source: 'local',
    });
    expect(DeliveryError.permanent('mail', 552, '5.3.4', 'too big')).toMatchObject({
      code: 552,
      kind: 'failed',
      source: 'local',
    });
  });

  it.each([
    [250, 'delivered'],
    [354, 'delivered'],
    [421, 'deferred'],
    [550, 'failed'],
  ] as const)('kindOfCode(%i) is %s', (code, kind) => {
    expect(kindOfCode(code)).toBe(kind);
  });
});
