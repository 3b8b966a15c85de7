import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatReply } from './reply';
import {
  createSaslMechanism,
  decodeBase64Strict,
  MAX_AUTH_LINE_OCTETS,
  SaslLogin,
  SaslPlain,
  type SaslStep,
} from './sasl';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

function errorOf(step: SaslStep): string | null {
  return step.type === 'error' ? `${step.error.code} ${step.error.enhanced}` : null;
}

function challengeOf(step: SaslStep): string | null {
  return step.type === 'challenge' ? formatReply(step.reply) : null;
}

describe('decodeBase64Strict', () => {
  it.each([
    ['', ''],
    ['YQ==', 'a'],
    ['YWI=', 'ab'],
    ['YWJj', 'abc'],
    ['AGFsaWNlAHNlY3JldA==', '\0alice\0secret'],
  ])('%j → %j', (text, value) => {
    expect(decodeBase64Strict(text)?.toString('latin1')).toBe(value);
  });

  it.each(['YQ', 'YQ=', 'Y===', 'YQ==YQ==', 'YW Jj', 'YW\r\nJj', '@@@@', 'YWJj=', '=', 'YQ-_', '*'])(
    'refuses %j',
    (text) => {
      expect(decodeBase64Strict(text)).toBeNull();
    },
  );

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (u) => {
        const buf = Buffer.from(u);
        expect(decodeBase64Strict(buf.toString('base64'))?.equals(buf)).toBe(true);
      }),
    );
  });
});

describe('SASL PLAIN (RFC 4616)', () => {
  it('decodes an initial response', () => {
    const step = new SaslPlain().start(b64('\0alice\0s3cret'));
    expect(step).toEqual({
      type: 'done',
      credentials: { mechanism: 'PLAIN', authorizationId: '', username: 'alice', password: 's3cret' },
    });
  });

  it('sends the empty challenge "334 " and takes the response on the next line', () => {
    const m = new SaslPlain();
    expect(challengeOf(m.start())).toBe('334 \r\n');
    const done = m.next(b64('admin\0alice\0pässwörd'));
    expect(done.type === 'done' && done.credentials).toEqual({
      mechanism: 'PLAIN',
      authorizationId: 'admin',
      username: 'alice',
      password: 'pässwörd',
    });
    expect(() => m.next('x')).toThrow();
  });

  it.each([
    ['no NUL', b64('alice'), '501 5.5.4'],
    ['one NUL', b64('alice\0secret'), '501 5.5.4'],
    ['three NULs', b64('\0alice\0secret\0'), '501 5.5.4'],
    ['empty user', b64('\0\0secret'), '501 5.5.4'],
    ['empty password', b64('\0alice\0'), '501 5.5.4'],
    ['invalid UTF-8', Buffer.from([0, 0x61, 0, 0xff]).toString('base64'), '501 5.5.4'],
    ['field over 255 octets', b64(`\0${'u'.repeat(256)}\0p`), '501 5.5.4'],
    ['bad base64', 'not base64!', '501 5.5.2'],
    ['unpadded base64', b64('\0a\0b').replace(/=+$/, ''), '501 5.5.2'],
    ['empty initial response', '=', '501 5.5.4'],
  ])('refuses %s', (_name, initial, expected) => {
    expect(errorOf(new SaslPlain().start(initial))).toBe(expected);
  });

  it('accepts fields of exactly 255 octets', () => {
    const step = new SaslPlain().start(b64(`${'z'.repeat(255)}\0${'u'.repeat(255)}\0${'p'.repeat(255)}`));
    expect(step.type).toBe('done');
  });

  it('cancels on "*" with 501 5.0.0 (RFC 4954 §4)', () => {
    const m = new SaslPlain();
    m.start();
    expect(errorOf(m.next('*'))).toBe('501 5.0.0');
  });

  it('refuses an over-long line with 500 5.5.6', () => {
    const m = new SaslPlain();
    m.start();
    expect(errorOf(m.next('A'.repeat(MAX_AUTH_LINE_OCTETS + 1)))).toBe('500 5.5.6');
    const n = new SaslPlain();
    n.start();
    expect(errorOf(n.next('A'.repeat(MAX_AUTH_LINE_OCTETS)))).toBe('501 5.5.4'); // length fine, content not
  });

  it('never puts the password into an error', () => {
    const password = 'hunter2-very-secret';
    const steps = [
      new SaslPlain().start(b64(`\0\0${password}`)),
      new SaslPlain().start(b64(`\0alice\0${password}\0`)),
      new SaslPlain().start(`${b64(`\0alice\0${password}`)}!`),
    ];
    for (const s of steps) {
      expect(s.type).toBe('error');
      if (s.type === 'error') {
        expect(s.error.message).not.toContain(password);
        expect(s.error.toReplyString()).not.toContain(password);
        expect(s.error.toReplyString()).not.toContain(b64(password).slice(0, 8));
      }
    }
  });
});

describe('SASL LOGIN (draft-murchison-sasl-login)', () => {
  it('asks for user name and password', () => {
    const m = new SaslLogin();
    expect(challengeOf(m.start())).toBe('334 VXNlcm5hbWU6\r\n');
    expect(challengeOf(m.next(b64('alice')))).toBe('334 UGFzc3dvcmQ6\r\n');
    expect(m.next(b64('s3cret'))).toEqual({
      type: 'done',
      credentials: { mechanism: 'LOGIN', authorizationId: '', username: 'alice', password: 's3cret' },
    });
  });

  it('takes the user name as initial response', () => {
    const m = new SaslLogin();
    expect(challengeOf(m.start(b64('alice')))).toBe('334 UGFzc3dvcmQ6\r\n');
    const done = m.next(b64('pw'));
    expect(done.type === 'done' && done.credentials.username).toBe('alice');
  });

  it.each([
    ['cancel at user name', [], '*', '501 5.0.0'],
    ['cancel at password', [b64('alice')], '*', '501 5.0.0'],
    ['bad base64 user name', [], 'YWxp Y2U=', '501 5.5.2'],
    ['bad base64 password', [b64('alice')], 'c2VjcmV0!', '501 5.5.2'],
    ['empty user name', [], '', '501 5.5.4'],
    ['NUL in password', [b64('alice')], b64('a\0b'), '501 5.5.4'],
  ])('%s', (_name, before, line, expected) => {
    const m = new SaslLogin();
    m.start();
    for (const l of before) m.next(l);
    expect(errorOf(m.next(line))).toBe(expected);
  });

  it('accepts an empty password line (empty base64)', () => {
    const m = new SaslLogin();
    m.start();
    m.next(b64('alice'));
    const done = m.next('');
    expect(done.type === 'done' && done.credentials.password).toBe('');
  });
});

describe('createSaslMechanism', () => {
  it.each([
    ['PLAIN', 'PLAIN'],
    ['plain', 'PLAIN'],
    ['LOGIN', 'LOGIN'],
  ])('%s', (name, expected) => {
    expect(createSaslMechanism(name)?.name).toBe(expected);
  });

  it('returns null for others', () => {
    expect(createSaslMechanism('CRAM-MD5')).toBeNull();
  });
});
