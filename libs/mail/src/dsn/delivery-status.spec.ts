import { describe, expect, it } from 'vitest';
import { addressField, formatDeliveryStatus, needsGlobal } from './delivery-status';
import { adviceFor } from './human-text';

describe('formatDeliveryStatus (RFC 3464 §2)', () => {
  it('writes per-message fields, then a blank line before each recipient block', () => {
    const text = formatDeliveryStatus({
      reportingMta: 'mx.example.org',
      envid: 'QQ314159',
      receivedFromMta: 'client.example.com',
      arrivalDate: new Date('2026-11-26T15:00:00Z'),
      recipients: [
        {
          finalRecipient: 'bob@example.org',
          originalRecipient: { type: 'RFC822', address: 'Bob@Example.org' },
          action: 'failed',
          status: '5.1.1',
          remoteMta: 'mx.example.net',
          diagnosticCode: '550 5.1.1 <bob@example.org>: user unknown',
          lastAttemptDate: new Date('2026-11-26T15:59:00Z'),
          finalLogId: 'Q1-1',
        },
        {
          finalRecipient: 'carol@example.net',
          action: 'delayed',
          status: '4.4.1',
          willRetryUntil: new Date('2026-12-01T15:00:00Z'),
        },
      ],
    });
    expect(text).toBe(
      [
        'Original-Envelope-Id: QQ314159',
        'Reporting-MTA: dns; mx.example.org',
        'Received-From-MTA: dns; client.example.com',
        'Arrival-Date: Thu, 26 Nov 2026 15:00:00 +0000',
        '',
        'Original-Recipient: rfc822; Bob@Example.org',
        'Final-Recipient: rfc822; bob@example.org',
        'Action: failed',
        'Status: 5.1.1',
        'Remote-MTA: dns; mx.example.net',
        'Diagnostic-Code: smtp; 550 5.1.1 <bob@example.org>: user unknown',
        'Last-Attempt-Date: Thu, 26 Nov 2026 15:59:00 +0000',
        'Final-Log-ID: Q1-1',
        '',
        'Final-Recipient: rfc822; carol@example.net',
        'Action: delayed',
        'Status: 4.4.1',
        'Will-Retry-Until: Tue, 1 Dec 2026 15:00:00 +0000',
        '',
      ].join('\r\n'),
    );
  });

  it('folds a long diagnostic and keeps it on one logical line', () => {
    const diag = `550-5.7.1 ${'very '.repeat(30)}long\r\n550 5.7.1 second line`;
    const text = formatDeliveryStatus({
      reportingMta: 'h',
      recipients: [{ finalRecipient: 'a@b', action: 'failed', status: '5.7.1', diagnosticCode: diag }],
    });
    for (const l of text.split('\r\n')) expect(l.length).toBeLessThanOrEqual(78);
    expect(text.replace(/\r\n /g, ' ')).toContain('550 5.7.1 second line');
  });

  it('refuses a bad status and an empty recipient list', () => {
    expect(() => formatDeliveryStatus({ reportingMta: 'h', recipients: [] })).toThrow(RangeError);
    expect(() =>
      formatDeliveryStatus({
        reportingMta: 'h',
        recipients: [{ finalRecipient: 'a@b', action: 'failed', status: '550' }],
      }),
    ).toThrow(RangeError);
  });

  it('writes Will-Retry-Until for delayed recipients only', () => {
    const text = formatDeliveryStatus({
      reportingMta: 'h',
      recipients: [{ finalRecipient: 'a@b', action: 'failed', status: '5.0.0', willRetryUntil: new Date() }],
    });
    expect(text).not.toContain('Will-Retry-Until');
  });
});

describe('addressField (RFC 3464 §2.3.2, RFC 6533 §3)', () => {
  it.each([
    ['bob@example.org', false, 'rfc822; bob@example.org'],
    ['<bob@example.org>', false, 'rfc822; bob@example.org'],
    ['用户@例子.广告', true, 'utf-8; 用户@例子.广告'],
    ['jörg+x@example.de', false, 'utf-8; j\\x{F6}rg\\x{2B}x@example.de'],
  ])('%s (global %s) → %s', (addr, global, expected) => expect(addressField(addr, global)).toBe(expected));

  it('needsGlobal sees UTF-8 in addresses and diagnostics', () => {
    expect(
      needsGlobal({
        reportingMta: 'h',
        recipients: [{ finalRecipient: 'a@b', action: 'failed', status: '5.0.0' }],
      }),
    ).toBe(false);
    expect(
      needsGlobal({
        reportingMta: 'h',
        recipients: [{ finalRecipient: 'ü@b', action: 'failed', status: '5.0.0' }],
      }),
    ).toBe(true);
  });
});

describe('adviceFor: words a person can act on', () => {
  it.each([
    ['5.1.1', /does not exist/],
    ['5.1.2', /domain after the @/],
    ['5.1.10', /does not accept email at all/],
    ['5.2.2', /mailbox is full/],
    ['5.3.4', /too large/],
    ['5.4.7', /gave up/],
    ['5.4.4', /could not be reached/],
    ['5.7.1', /policy reason/],
    ['5.6.0', /content or format/],
    ['5.0.0', /reach the recipient another way/],
  ])('%s', (status, pattern) => expect(adviceFor(status, 'failed')).toMatch(pattern));

  it('tells the sender not to resend a delayed message', () => {
    expect(adviceFor('4.4.1', 'delayed')).toMatch(/Do not send the message again/);
  });
});
