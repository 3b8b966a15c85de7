import { describe, expect, it } from 'vitest';
import { unfold } from './header-fields';
import { addressLiteral, buildReceived, receivedProtocol, type ReceivedOptions } from './received';

const date = new Date('2026-11-26T16:00:00Z');
const lines = (field: string): string[] => field.replace(/\r\n$/, '').split('\r\n');
const oneLine = (field: string): string => unfold(Buffer.from(field.replace(/\r\n$/, '')));

describe('receivedProtocol (RFC 3848, RFC 6531 §3.7.3)', () => {
  it.each([
    [{ esmtp: false, tls: false, auth: false }, 'SMTP'],
    [{ esmtp: true, tls: false, auth: false }, 'ESMTP'],
    [{ esmtp: true, tls: true, auth: false }, 'ESMTPS'],
    [{ esmtp: true, tls: false, auth: true }, 'ESMTPA'],
    [{ esmtp: true, tls: true, auth: true }, 'ESMTPSA'],
    [{ esmtp: true, tls: false, auth: false, smtpUtf8: true }, 'UTF8SMTP'],
    [{ esmtp: true, tls: true, auth: false, smtpUtf8: true }, 'UTF8SMTPS'],
    [{ esmtp: true, tls: false, auth: true, smtpUtf8: true }, 'UTF8SMTPA'],
    [{ esmtp: true, tls: true, auth: true, smtpUtf8: true }, 'UTF8SMTPSA'],
  ])('%j → %s', (p, expected) => expect(receivedProtocol(p)).toBe(expected));
});

describe('addressLiteral (RFC 5321 §4.1.3)', () => {
  it.each([
    ['192.0.2.1', '[192.0.2.1]'],
    ['2001:db8::1', '[IPv6:2001:db8::1]'],
    ['::ffff:192.0.2.1', '[192.0.2.1]'],
    ['::1', '[IPv6:::1]'],
  ])('%s → %s', (ip, lit) => expect(addressLiteral(ip)).toBe(lit));
});

const mx: ReceivedOptions = {
  helo: 'mail.example.com',
  clientHostname: 'mail.example.com',
  clientIp: '192.0.2.1',
  by: 'mx.example.org',
  product: 'mta',
  protocol: { esmtp: true, tls: true, auth: false },
  tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
  id: '01JD5XQ7',
  recipients: ['bob@example.org'],
  date,
};

describe('buildReceived (RFC 5321 §4.4)', () => {
  it('writes the Postfix-like MX form, folded at 78', () => {
    const field = buildReceived(mx);
    expect(lines(field)).toEqual([
      'Received: from mail.example.com (mail.example.com [192.0.2.1])',
      ' (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)',
      ' by mx.example.org (mta) with ESMTPS id 01JD5XQ7 for <bob@example.org>;',
      ' Thu, 26 Nov 2026 16:00:00 +0000',
    ]);
    for (const l of lines(field)) expect(l.length).toBeLessThanOrEqual(78);
  });

  it('cuts a client name longer than a domain can be (255) so that no line passes 998 (RFC 5322 §2.1.1)', () => {
    const at = `${'a'.repeat(255)}`;
    expect(oneLine(buildReceived({ ...mx, helo: at }))).toContain(`from ${at} (`);
    const field = buildReceived({ ...mx, helo: 'h'.repeat(1500), clientHostname: 'r'.repeat(1500) });
    for (const l of lines(field)) expect(l.length).toBeLessThanOrEqual(998);
    expect(oneLine(field)).toContain(`from ${'h'.repeat(252)}... (${'r'.repeat(252)}... [192.0.2.1])`);
  });

  it('writes unknown for a client without verified reverse DNS, and TLS bits when given', () => {
    const field = buildReceived({
      ...mx,
      clientHostname: undefined,
      tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', bits: 256 },
    });
    expect(oneLine(field)).toContain(
      'from mail.example.com (unknown [192.0.2.1]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)) by',
    );
  });

  it('submission: ESMTPSA, client hidden, the user only when asked', () => {
    const sub: ReceivedOptions = {
      ...mx,
      hideClient: true,
      protocol: { esmtp: true, tls: true, auth: true },
    };
    const hidden = oneLine(buildReceived(sub));
    expect(hidden).toBe(
      'Received: by mx.example.org (mta) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384) with ESMTPSA id 01JD5XQ7 for <bob@example.org>; Thu, 26 Nov 2026 16:00:00 +0000',
    );
    expect(hidden).not.toContain('192.0.2.1');
    expect(hidden).not.toContain('mail.example.com');
    expect(hidden).not.toContain('Authenticated');
    const withUser = oneLine(buildReceived({ ...sub, authenticatedUser: 'alice@example.com' }));
    expect(withUser).toContain('(Authenticated sender: alice@example.com)');
  });

  it('writes "for" only with exactly one recipient', () => {
    expect(oneLine(buildReceived({ ...mx, recipients: ['a@x.test', 'b@x.test'] }))).toMatch(
      / id 01JD5XQ7; Thu, 26 Nov/,
    );
    expect(oneLine(buildReceived({ ...mx, recipients: [] }))).not.toContain(' for ');
    expect(oneLine(buildReceived({ ...mx, recipients: undefined }))).not.toContain(' for ');
  });

  it('UTF8SMTPS with a UTF-8 recipient (RFC 6531 §3.7.3)', () => {
    const f = oneLine(
      buildReceived({
        ...mx,
        protocol: { esmtp: true, tls: true, auth: false, smtpUtf8: true },
        recipients: ['用户@例子.广告'],
      }),
    );
    expect(f).toContain('with UTF8SMTPS id 01JD5XQ7 for <用户@例子.广告>;');
  });

  it('plain SMTP from an IPv6 client with HELO', () => {
    const f = oneLine(
      buildReceived({
        ...mx,
        helo: 'old.example',
        clientHostname: undefined,
        clientIp: '2001:db8::25',
        protocol: { esmtp: false, tls: false, auth: false },
        tls: undefined,
      }),
    );
    expect(f).toBe(
      'Received: from old.example (unknown [IPv6:2001:db8::25]) by mx.example.org (mta) with SMTP id 01JD5XQ7 for <bob@example.org>; Thu, 26 Nov 2026 16:00:00 +0000',
    );
  });

  it('neutralises what a client could inject through HELO or the user name', () => {
    const field = buildReceived({
      ...mx,
      helo: 'evil) by fake; (x\r\nBcc: a@b',
      authenticatedUser: 'bob)\r\nX: y',
    });
    expect(
      field
        .split('\r\n')
        .filter((l) => l !== '')
        .every((l, i) => i === 0 || /^[ \t]/.test(l)),
    ).toBe(true);
    expect(oneLine(field)).toContain('from evil??by?fake???x??Bcc:?a@b (mail.example.com [192.0.2.1])');
    expect(oneLine(field)).toContain('(Authenticated sender: bob???X:?y)');
  });

  it('uses the IP literal when the client gave no HELO', () => {
    expect(oneLine(buildReceived({ ...mx, helo: undefined }))).toMatch(
      /^Received: from \[192\.0\.2\.1\] \(mail\.example\.com \[192\.0\.2\.1\]\)/,
    );
  });

  it('folds every line to at most 78 characters with long names', () => {
    const long = buildReceived({
      ...mx,
      helo: `${'a'.repeat(30)}.example.com`,
      clientHostname: `${'b'.repeat(30)}.example.com`,
      authenticatedUser: 'someone@example.com',
    });
    for (const l of lines(long)) expect(l.length).toBeLessThanOrEqual(78);
    expect(oneLine(long)).toMatch(/; Thu, 26 Nov 2026 16:00:00 \+0000$/);
  });
});
