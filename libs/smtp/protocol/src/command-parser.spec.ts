import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SmtpCommand } from './command';
import { parseCommand, type ParseOptions, type ParseResult } from './command-parser';
import { activeExtensions, ALL_EXTENSIONS, NO_EXTENSIONS } from './extensions';

function command(r: ParseResult): SmtpCommand {
  if (!r.ok) throw new Error(`expected a command, got ${r.error.toReplyString()}`);
  return r.command;
}

const ab = { local: 'a', domain: 'b.example', raw: 'a@b.example' };

describe('parseCommand: valid commands', () => {
  it.each<[string, SmtpCommand]>([
    ['HELO client.example', { verb: 'HELO', domain: 'client.example', domainValid: true }],
    ['helo client.example', { verb: 'HELO', domain: 'client.example', domainValid: true }],
    ['EHLO client.example', { verb: 'EHLO', domain: 'client.example', domainValid: true }],
    ['EhLo [192.0.2.1]', { verb: 'EHLO', domain: '[192.0.2.1]', domainValid: true }],
    ['EHLO [IPv6:2001:db8::1]', { verb: 'EHLO', domain: '[IPv6:2001:db8::1]', domainValid: true }],
    ['EHLO my_host', { verb: 'EHLO', domain: 'my_host', domainValid: false }],
    ['EHLO 192.0.2.1', { verb: 'EHLO', domain: '192.0.2.1', domainValid: true }],
    ['EHLO client.example   ', { verb: 'EHLO', domain: 'client.example', domainValid: true }],
    [
      `EHLO ${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`,
      {
        verb: 'EHLO',
        domain: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`,
        domainValid: true,
      },
    ],
    ['MAIL FROM:<a@b.example>', { verb: 'MAIL', from: ab, params: { smtpUtf8: false, requireTls: false } }],
    ['mail from:<a@b.example>', { verb: 'MAIL', from: ab, params: { smtpUtf8: false, requireTls: false } }],
    ['MAIL FROM: <a@b.example>', { verb: 'MAIL', from: ab, params: { smtpUtf8: false, requireTls: false } }],
    ['MAIL FROM:<>', { verb: 'MAIL', from: null, params: { smtpUtf8: false, requireTls: false } }],
    [
      'MAIL FROM:<a@b.example> SIZE=1000',
      { verb: 'MAIL', from: ab, params: { size: 1000, smtpUtf8: false, requireTls: false } },
    ],
    [
      'MAIL FROM:<a@b.example> size=0',
      { verb: 'MAIL', from: ab, params: { size: 0, smtpUtf8: false, requireTls: false } },
    ],
    [
      'MAIL FROM:<a@b.example> BODY=8BITMIME',
      { verb: 'MAIL', from: ab, params: { body: '8BITMIME', smtpUtf8: false, requireTls: false } },
    ],
    [
      'MAIL FROM:<a@b.example> body=7bit',
      { verb: 'MAIL', from: ab, params: { body: '7BIT', smtpUtf8: false, requireTls: false } },
    ],
    [
      'MAIL FROM:<a@b.example> BODY=BINARYMIME',
      { verb: 'MAIL', from: ab, params: { body: 'BINARYMIME', smtpUtf8: false, requireTls: false } },
    ],
    [
      'MAIL FROM:<a@b.example> SMTPUTF8',
      { verb: 'MAIL', from: ab, params: { smtpUtf8: true, requireTls: false } },
    ],
    [
      'MAIL FROM:<a@b.example> RET=HDRS ENVID=QQ+2B1',
      { verb: 'MAIL', from: ab, params: { ret: 'HDRS', envid: 'QQ+1', smtpUtf8: false, requireTls: false } },
    ],
    [
      'MAIL FROM:<a@b.example> ret=full',
      { verb: 'MAIL', from: ab, params: { ret: 'FULL', smtpUtf8: false, requireTls: false } },
    ],
    [
      'MAIL FROM:<a@b.example> REQUIRETLS',
      { verb: 'MAIL', from: ab, params: { smtpUtf8: false, requireTls: true } },
    ],
    [
      'MAIL FROM:<a@b.example> AUTH=<>',
      { verb: 'MAIL', from: ab, params: { auth: null, smtpUtf8: false, requireTls: false } },
    ],
    [
      'MAIL FROM:<a@b.example> AUTH=<e+2Bf@g.example>',
      {
        verb: 'MAIL',
        from: ab,
        params: {
          auth: { local: 'e+f', domain: 'g.example', raw: 'e+f@g.example' },
          smtpUtf8: false,
          requireTls: false,
        },
      },
    ],
    [
      'MAIL FROM:<a@b.example>  SIZE=5   BODY=8BITMIME  ',
      { verb: 'MAIL', from: ab, params: { size: 5, body: '8BITMIME', smtpUtf8: false, requireTls: false } },
    ],
    [
      'MAIL FROM:<@x.example,@y.example:a@b.example>',
      { verb: 'MAIL', from: ab, params: { smtpUtf8: false, requireTls: false } },
    ],
    [
      'MAIL FROM:<"a b>c"@b.example> SIZE=1',
      {
        verb: 'MAIL',
        from: { local: '"a b>c"', domain: 'b.example', raw: '"a b>c"@b.example' },
        params: { size: 1, smtpUtf8: false, requireTls: false },
      },
    ],
    [
      'MAIL FROM:<ü@b.example> SMTPUTF8',
      {
        verb: 'MAIL',
        from: { local: 'ü', domain: 'b.example', raw: 'ü@b.example' },
        params: { smtpUtf8: true, requireTls: false },
      },
    ],
    ['RCPT TO:<a@b.example>', { verb: 'RCPT', to: ab, postmaster: false, params: {} }],
    ['rcpt to: <a@b.example>', { verb: 'RCPT', to: ab, postmaster: false, params: {} }],
    [
      'RCPT TO:<Postmaster>',
      {
        verb: 'RCPT',
        to: { local: 'Postmaster', domain: '', raw: 'Postmaster' },
        postmaster: true,
        params: {},
      },
    ],
    [
      'RCPT TO:<a@b.example> NOTIFY=SUCCESS,FAILURE',
      { verb: 'RCPT', to: ab, postmaster: false, params: { notify: ['SUCCESS', 'FAILURE'] } },
    ],
    [
      'RCPT TO:<a@b.example> notify=never',
      { verb: 'RCPT', to: ab, postmaster: false, params: { notify: ['NEVER'] } },
    ],
    [
      'RCPT TO:<a@b.example> NOTIFY=DELAY ORCPT=rfc822;x+2By@z.example',
      {
        verb: 'RCPT',
        to: ab,
        postmaster: false,
        params: {
          notify: ['DELAY'],
          orcpt: { type: 'RFC822', address: 'x+y@z.example', raw: 'rfc822;x+2By@z.example' },
        },
      },
    ],
    ['DATA', { verb: 'DATA' }],
    ['data', { verb: 'DATA' }],
    ['BDAT 1000', { verb: 'BDAT', size: 1000, last: false }],
    ['BDAT 0 LAST', { verb: 'BDAT', size: 0, last: true }],
    ['bdat 12 last', { verb: 'BDAT', size: 12, last: true }],
    ['RSET', { verb: 'RSET' }],
    ['NOOP', { verb: 'NOOP' }],
    ['NOOP anything at all', { verb: 'NOOP', argument: 'anything at all' }],
    ['QUIT', { verb: 'QUIT' }],
    ['VRFY postmaster', { verb: 'VRFY', argument: 'postmaster' }],
    ['HELP', { verb: 'HELP' }],
    ['HELP MAIL', { verb: 'HELP', argument: 'MAIL' }],
    ['STARTTLS', { verb: 'STARTTLS' }],
    ['starttls', { verb: 'STARTTLS' }],
    ['AUTH PLAIN', { verb: 'AUTH', mechanism: 'PLAIN' }],
    ['auth login', { verb: 'AUTH', mechanism: 'LOGIN' }],
    [
      'AUTH PLAIN AGFsaWNlAHNlY3JldA==',
      { verb: 'AUTH', mechanism: 'PLAIN', initialResponse: 'AGFsaWNlAHNlY3JldA==' },
    ],
    ['AUTH PLAIN =', { verb: 'AUTH', mechanism: 'PLAIN', initialResponse: '=' }],
  ])('%s', (line, expected) => {
    expect(command(parseCommand(line))).toEqual(expected);
  });

  it('accepts bytes as well as strings', () => {
    expect(command(parseCommand(Buffer.from('MAIL FROM:<a@b.example>')))).toEqual({
      verb: 'MAIL',
      from: ab,
      params: { smtpUtf8: false, requireTls: false },
    });
    const utf8 = command(parseCommand(Buffer.from('MAIL FROM:<josé@b.example> SMTPUTF8', 'utf8')));
    expect(utf8.verb === 'MAIL' && utf8.from?.local).toBe('josé');
  });

  it('accepts UTF-8 recipients when the transaction is SMTPUTF8 (RFC 6531 §3.4)', () => {
    const r = command(parseCommand('RCPT TO:<用户@例子.广告>', { smtpUtf8: true }));
    expect(r.verb === 'RCPT' && r.to.domain).toBe('例子.广告');
  });
});

type Row = [line: string, code: number, enhanced: string, options?: ParseOptions];

describe('parseCommand: failures carry their reply', () => {
  it.each<Row>([
    // unknown / not implemented
    ['FOO', 500, '5.5.1'],
    ['GET / HTTP/1.1', 500, '5.5.1'],
    ['MAIL2 FROM:<a@b.example>', 500, '5.5.1'],
    ['', 500, '5.5.2'],
    ['   ', 500, '5.5.2'],
    [' MAIL FROM:<a@b.example>', 500, '5.5.2'],
    ['EXPN staff', 502, '5.5.1'],
    ['TURN', 502, '5.5.1'],
    ['MAIL FROM:<a@b.example>\0', 500, '5.5.2'],
    ['NOOP \x1b[31m', 500, '5.5.2'],
    ['NOOP a\rb', 500, '5.5.2'],
    ['NOOP a\nb', 500, '5.5.2'],
    // HELO / EHLO
    ['HELO', 501, '5.5.4'],
    ['EHLO', 501, '5.5.4'],
    ['EHLO    ', 501, '5.5.4'],
    ['EHLO exämple.com', 501, '5.5.4'],
    // longer than any domain (RFC 1035 §2.3.4: 255 octets)
    [`EHLO ${'a'.repeat(256)}`, 501, '5.5.2'],
    [`HELO ${'a.'.repeat(749)}example`, 501, '5.5.2'],
    // MAIL
    ['MAIL', 501, '5.5.4'],
    ['MAIL TO:<a@b.example>', 501, '5.5.4'],
    ['MAIL FROM', 501, '5.5.4'],
    ['MAIL FROM <a@b.example>', 501, '5.5.4'],
    ['MAIL FROM:', 501, '5.1.7'],
    ['MAIL FROM:a@b.example', 501, '5.1.7'],
    ['MAIL FROM:<a@b.example', 501, '5.1.7'],
    ['MAIL FROM:<a b@c.example>', 501, '5.1.7'],
    ['MAIL FROM:<a@b..example>', 501, '5.1.7'],
    ['MAIL FROM:<postmaster>', 501, '5.1.7'],
    ['MAIL FROM:<a@[300.1.1.1]>', 501, '5.1.7'],
    [`MAIL FROM:<${'x'.repeat(65)}@b.example>`, 501, '5.1.7'],
    ['MAIL FROM:<a@b.example>SIZE=10', 501, '5.5.4'],
    ['MAIL FROM:<a@b.example> SIZE', 501, '5.5.4'],
    ['MAIL FROM:<a@b.example> SIZE=', 501, '5.5.4'],
    ['MAIL FROM:<a@b.example> SIZE=-1', 501, '5.5.4'],
    ['MAIL FROM:<a@b.example> SIZE=1e3', 501, '5.5.4'],
    ['MAIL FROM:<a@b.example> SIZE=123456789012345678901', 501, '5.5.4'],
    ['MAIL FROM:<a@b.example> SIZE=10 SIZE=20', 501, '5.5.4'],
    ['MAIL FROM:<a@b.example> SIZE=10 size=10', 501, '5.5.4'],
    ['MAIL FROM:<a@b.example> BODY=9BIT', 501, '5.5.4'],
    ['MAIL FROM:<a@b.example> BODY', 501, '5.5.4'],
    ['MAIL FROM:<a@b.example> SMTPUTF8=yes', 501, '5.5.4'],
    ['MAIL FROM:<a@b.example> RET=ALL', 501, '5.5.4'],
    ['MAIL FROM:<a@b.example> ENVID=a+2', 501, '5.5.4'],
    ['MAIL FROM:<a@b.example> ENVID=a+2b', 501, '5.5.4'],
    [`MAIL FROM:<a@b.example> ENVID=${'e'.repeat(101)}`, 501, '5.5.4'],
    ['MAIL FROM:<a@b.example> REQUIRETLS=1', 501, '5.5.4'],
    ['MAIL FROM:<a@b.example> AUTH=a@b.example', 501, '5.5.4'],
    ['MAIL FROM:<a@b.example> AUTH=<bad>', 501, '5.5.4'],
    ['MAIL FROM:<a@b.example> AUTH=<a+@b.example>', 501, '5.5.4'],
    ['MAIL FROM:<a@b.example> -X=1', 501, '5.5.4'],
    ['MAIL FROM:<a@b.example> X=a=b', 501, '5.5.4'],
    ['MAIL FROM:<a@b.example> FOO=BAR', 555, '5.5.4'],
    ['MAIL FROM:<a@b.example> XVERP', 555, '5.5.4'],
    ['MAIL FROM:<a@b.example> NOTIFY=NEVER', 555, '5.5.4'],
    ['MAIL FROM:<josé@b.example>', 553, '5.6.7'],
    ['MAIL FROM:<a@b.example> ENVID=josé', 501, '5.5.4'],
    // RCPT
    ['RCPT', 501, '5.5.4'],
    ['RCPT FROM:<a@b.example>', 501, '5.5.4'],
    ['RCPT TO:', 501, '5.1.3'],
    ['RCPT TO:<>', 501, '5.1.3'],
    ['RCPT TO:a@b.example', 501, '5.1.3'],
    ['RCPT TO:<a@b.example', 501, '5.1.3'],
    ['RCPT TO:<@a.example:b@>', 501, '5.1.3'],
    ['RCPT TO:<a@-b.example>', 501, '5.1.3'],
    ['RCPT TO:<a@b.example> SIZE=10', 555, '5.5.4'],
    ['RCPT TO:<a@b.example> FOO', 555, '5.5.4'],
    ['RCPT TO:<a@b.example> NOTIFY=NEVER,SUCCESS', 501, '5.5.4'],
    ['RCPT TO:<a@b.example> NOTIFY=SUCCESS,SUCCESS', 501, '5.5.4'],
    ['RCPT TO:<a@b.example> NOTIFY=SOMETIMES', 501, '5.5.4'],
    ['RCPT TO:<a@b.example> NOTIFY=', 501, '5.5.4'],
    ['RCPT TO:<a@b.example> NOTIFY=SUCCESS NOTIFY=FAILURE', 501, '5.5.4'],
    ['RCPT TO:<a@b.example> ORCPT=rfc822', 501, '5.5.4'],
    ['RCPT TO:<a@b.example> ORCPT=;a@b.example', 501, '5.5.4'],
    ['RCPT TO:<a@b.example> ORCPT=rfc822;a+zz', 501, '5.5.4'],
    ['RCPT TO:<用户@例子.广告>', 553, '5.6.7'],
    ['RCPT TO:<a@b.example> SMTPUTF8', 555, '5.5.4'],
    // DATA, RSET, QUIT, STARTTLS take no arguments
    ['DATA now', 501, '5.5.4'],
    ['RSET x', 501, '5.5.4'],
    ['QUIT now', 501, '5.5.4'],
    ['STARTTLS x', 501, '5.5.4'],
    // BDAT
    ['BDAT', 501, '5.5.4'],
    ['BDAT LAST', 501, '5.5.4'],
    ['BDAT -1', 501, '5.5.4'],
    ['BDAT 1.5', 501, '5.5.4'],
    ['BDAT 10 FIRST', 501, '5.5.4'],
    ['BDAT 10 LAST extra', 501, '5.5.4'],
    ['BDAT 1234567890123456', 501, '5.5.4'],
    // VRFY
    ['VRFY', 501, '5.5.4'],
    ['VRFY  ', 501, '5.5.4'],
    // AUTH
    ['AUTH', 501, '5.5.4'],
    ['AUTH PLAIN a b', 501, '5.5.4'],
    ['AUTH PL@IN', 501, '5.5.4'],
    ['AUTH THIS-MECHANISM-NAME-IS-TOO-LONG', 501, '5.5.4'],
    ['AUTH CRAM-MD5', 504, '5.5.4'],
    ['AUTH GSSAPI', 504, '5.5.4'],
    [
      'AUTH PLAIN',
      504,
      '5.5.4',
      { extensions: activeExtensions({ authMechanisms: ['LOGIN'] }, { tls: true, authenticated: false }) },
    ],
    // non-ASCII outside addresses
    ['NOOP ünïcode', 501, '5.5.4'],
    ['HELP ü', 501, '5.5.4'],
  ])('%j → %i %s', (line, code, enhanced, options) => {
    const r = parseCommand(line, options);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(code);
      expect(r.error.enhanced).toBe(enhanced);
    }
  });

  it('names the verb of a failed command', () => {
    const r = parseCommand('MAIL FROM:bad');
    expect(r.ok ? null : r.verb).toBe('MAIL');
    const u = parseCommand('');
    expect(u.ok ? 'x' : u.verb).toBeNull();
  });

  it('refuses invalid UTF-8 bytes', () => {
    const r = parseCommand(Buffer.from([0x4e, 0x4f, 0x4f, 0x50, 0x20, 0xff, 0xfe]));
    expect(r.ok ? null : [r.error.code, r.error.enhanced]).toEqual([500, '5.5.2']);
  });

  it('refuses lines longer than maxLineOctets with 500 5.5.2', () => {
    const line = `NOOP ${'x'.repeat(505)}`; // 510 octets
    expect(parseCommand(line, { maxLineOctets: 510 }).ok).toBe(true);
    const r = parseCommand(`${line}x`, { maxLineOctets: 510 });
    expect(r.ok ? null : [r.error.code, r.error.enhanced]).toEqual([500, '5.5.2']);
    const b = parseCommand(Buffer.from(`${line}x`), { maxLineOctets: 510 });
    expect(b.ok).toBe(false);
  });
});

describe('parseCommand: parameters follow the extensions in force', () => {
  it.each([
    'MAIL FROM:<a@b.example> SIZE=10',
    'MAIL FROM:<a@b.example> BODY=8BITMIME',
    'MAIL FROM:<a@b.example> SMTPUTF8',
    'MAIL FROM:<a@b.example> RET=FULL',
    'MAIL FROM:<a@b.example> ENVID=x',
    'MAIL FROM:<a@b.example> REQUIRETLS',
    'MAIL FROM:<a@b.example> AUTH=<>',
    'RCPT TO:<a@b.example> NOTIFY=NEVER',
    'RCPT TO:<a@b.example> ORCPT=rfc822;a@b.example',
  ])('%s is 555 without its extension and accepted with all', (line) => {
    expect(parseCommand(line, { extensions: ALL_EXTENSIONS }).ok).toBe(true);
    const r = parseCommand(line, { extensions: NO_EXTENSIONS });
    expect(r.ok ? null : [r.error.code, r.error.enhanced]).toEqual([555, '5.5.4']);
  });

  it('needs BINARYMIME for BODY=BINARYMIME, 8BITMIME suffices for 8BITMIME', () => {
    const ext = activeExtensions({ eightBitMime: true }, { tls: false, authenticated: false });
    expect(parseCommand('MAIL FROM:<a@b.example> BODY=8BITMIME', { extensions: ext }).ok).toBe(true);
    const r = parseCommand('MAIL FROM:<a@b.example> BODY=BINARYMIME', { extensions: ext });
    expect(r.ok ? null : r.error.code).toBe(555);
  });

  it('accepts UTF-8 in MAIL only together with SMTPUTF8 on the same line', () => {
    expect(parseCommand('MAIL FROM:<ü@b.example> SMTPUTF8').ok).toBe(true);
    const r = parseCommand('MAIL FROM:<ü@b.example>');
    expect(r.ok ? null : r.error.code).toBe(553);
  });
});

describe('parseCommand: robustness (fast-check)', () => {
  const piece = fc.oneof(
    fc.constantFrom(
      'MAIL FROM:',
      'RCPT TO:',
      'EHLO ',
      'BDAT ',
      'AUTH ',
      '<',
      '>',
      '@',
      '"',
      '\\',
      ' ',
      '=',
      '+',
      ':',
      ',',
      '.',
    ),
    fc.constantFrom(
      'SIZE=',
      'BODY=',
      'NOTIFY=',
      'ORCPT=rfc822;',
      'ENVID=',
      'AUTH=',
      'SMTPUTF8',
      '[IPv6:',
      ']',
    ),
    fc.string({ maxLength: 6 }),
    fc.string({ unit: 'grapheme', maxLength: 3 }),
  );
  const line = fc.array(piece, { maxLength: 12 }).map((p) => p.join(''));

  it('never throws, and every failure is a 4yz/5yz reply with printable ASCII text', () => {
    fc.assert(
      fc.property(line, fc.boolean(), (text, utf8) => {
        const r = parseCommand(text, { smtpUtf8: utf8 });
        if (!r.ok) {
          expect(r.error.code).toBeGreaterThanOrEqual(500);
          expect(r.error.toReplyString()).toMatch(/^(\d{3}[- ][\x20-\x7e]*\r\n)+$/);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('accepts ENVID of exactly 100 characters (RFC 3461 §4.4)', () => {
    expect(parseCommand(`MAIL FROM:<a@b.example> ENVID=${'e'.repeat(100)}`).ok).toBe(true);
  });
});
