import { describe, expect, it } from 'vitest';
import { parseCommand } from './command-parser';
import { SmtpSession } from './session';
import { cmd, FULL, run } from './session.testutil';

describe('SmtpSession: STARTTLS (RFC 3207)', () => {
  it('forgets everything after the handshake and requires a fresh EHLO (§4.2)', () => {
    const s = run([
      ['EHLO c.example', 'ok'],
      ['STARTTLS', 'ok', 'starttls'],
      ['NOOP', '503 5.5.1'],
      ['MAIL FROM:<>', '503 5.5.1'],
    ]);
    s.tlsStarted();
    expect(s.tls).toBe(true);
    expect(s.state).toBe('connected');
    expect(s.greeting).toBeNull();
    expect(s.apply(cmd('MAIL FROM:<a@b.example>')).allowed).toBe(false);
    expect(s.apply(cmd('EHLO c.example')).allowed).toBe(true);
    expect(s.extensions.startTls).toBe(false);
    expect(s.extensions.requireTls).toBe(true);
    const again = s.apply(cmd('STARTTLS'));
    expect(again.allowed ? null : [again.error.code, again.error.enhanced]).toEqual([503, '5.5.1']);
    expect(s.apply(cmd('MAIL FROM:<a@b.example> REQUIRETLS')).allowed).toBe(true);
  });

  it('keeps accepting MAIL ... AUTH= after a successful AUTH (RFC 4954 §5)', () => {
    const s = new SmtpSession({ capabilities: { ...FULL, authWithoutTls: true } });
    s.apply(cmd('EHLO c.example'));
    expect(parseCommand('MAIL FROM:<a@b.example> AUTH=<a@b.example>', s.parseOptions).ok).toBe(true);
    s.apply(cmd('AUTH PLAIN'));
    s.authSucceeded('alice');
    expect(s.extensions.auth).toEqual([]); // no longer advertised...
    const r = parseCommand('MAIL FROM:<a@b.example> AUTH=<a@b.example>', s.parseOptions);
    expect(r.ok).toBe(true); // ...but still in force
    const again = parseCommand('AUTH PLAIN', s.parseOptions);
    expect(again.ok && s.check(again.command)).toMatchObject({ allowed: false });
  });

  it('forgets the authentication too', () => {
    const s = new SmtpSession({ capabilities: { ...FULL, authWithoutTls: true } });
    s.apply(cmd('EHLO c.example'));
    s.apply(cmd('AUTH PLAIN'));
    s.authSucceeded('alice');
    expect(s.user).toBe('alice');
    s.apply(cmd('STARTTLS'));
    s.tlsStarted();
    expect(s.user).toBeNull();
  });

  it('is refused inside a transaction, when not offered, and before EHLO', () => {
    run([
      ['EHLO c.example', 'ok'],
      ['MAIL FROM:<a@b.example>', 'ok'],
      ['STARTTLS', '503 5.5.1', 'mail'],
    ]);
    run(
      [
        ['EHLO c.example', 'ok'],
        ['STARTTLS', '502 5.5.1'],
      ],
      { capabilities: { ...FULL, startTls: false } },
    );
    run([['STARTTLS', '502 5.5.1']]);
  });

  it('is refused on an implicit-TLS connection', () => {
    run(
      [
        ['EHLO c.example', 'ok'],
        ['STARTTLS', '503 5.5.1'],
      ],
      { capabilities: FULL, tls: true },
    );
  });

  it('requireTls refuses MAIL with 530 5.7.0 until TLS', () => {
    const s = run(
      [
        ['EHLO c.example', 'ok'],
        ['MAIL FROM:<a@b.example>', '530 5.7.0'],
        ['STARTTLS', 'ok'],
      ],
      { capabilities: FULL, requireTls: true },
    );
    s.tlsStarted();
    expect(s.apply(cmd('EHLO c.example')).allowed).toBe(true);
    expect(s.apply(cmd('MAIL FROM:<a@b.example>')).allowed).toBe(true);
  });
});

describe('SmtpSession: AUTH (RFC 4954)', () => {
  it('requires TLS unless allowed, with 538 5.7.11 (RFC 4954 §6)', () => {
    run([
      ['EHLO c.example', 'ok'],
      ['AUTH PLAIN', '538 5.7.11'],
    ]);
    run(
      [
        ['EHLO c.example', 'ok'],
        ['AUTH PLAIN', 'ok', 'auth'],
      ],
      { capabilities: FULL, tls: true },
    );
    run(
      [
        ['EHLO c.example', 'ok'],
        ['AUTH PLAIN', 'ok', 'auth'],
      ],
      { capabilities: { ...FULL, authWithoutTls: true } },
    );
  });

  it('is 502 when no mechanism is configured and 503 before EHLO', () => {
    run(
      [
        ['EHLO c.example', 'ok'],
        ['AUTH PLAIN', '502 5.5.1'],
      ],
      { capabilities: { ...FULL, authMechanisms: [] }, tls: true },
    );
    run([['AUTH PLAIN', '503 5.5.1']], { capabilities: FULL, tls: true });
  });

  it('refuses an unconfigured mechanism with 504 5.5.4', () => {
    run(
      [
        ['EHLO c.example', 'ok'],
        ['AUTH LOGIN', '504 5.5.4'],
      ],
      { capabilities: { ...FULL, authMechanisms: ['PLAIN'] }, tls: true },
    );
  });

  it('is not allowed twice (503) nor during a transaction (503)', () => {
    const s = run(
      [
        ['EHLO c.example', 'ok'],
        ['AUTH PLAIN', 'ok', 'auth'],
        ['NOOP', '503 5.5.1'],
      ],
      { capabilities: FULL, tls: true },
    );
    s.authSucceeded('alice');
    expect(s.state).toBe('greeted');
    const twice = s.apply(cmd('AUTH LOGIN'));
    expect(twice.allowed ? null : [twice.error.code, twice.error.enhanced]).toEqual([503, '5.5.1']);
    expect(s.extensions.auth).toEqual([]);
    run(
      [
        ['EHLO c.example', 'ok'],
        ['MAIL FROM:<a@b.example>', 'ok'],
        ['AUTH PLAIN', '503 5.5.1', 'mail'],
      ],
      { capabilities: FULL, tls: true },
    );
  });

  it('may be retried after a failed exchange', () => {
    const s = run(
      [
        ['EHLO c.example', 'ok'],
        ['AUTH PLAIN', 'ok'],
      ],
      { capabilities: FULL, tls: true },
    );
    s.authEnded();
    expect(s.state).toBe('greeted');
    expect(s.user).toBeNull();
    expect(s.apply(cmd('AUTH LOGIN')).allowed).toBe(true);
  });

  it('authSucceeded outside an exchange is a programming error', () => {
    expect(() => new SmtpSession().authSucceeded('x')).toThrow();
  });

  it('requireAuth refuses MAIL with 530 5.7.0 until authenticated', () => {
    const s = run(
      [
        ['EHLO c.example', 'ok'],
        ['MAIL FROM:<a@b.example>', '530 5.7.0'],
        ['AUTH PLAIN', 'ok'],
      ],
      { capabilities: FULL, tls: true, requireAuth: true },
    );
    s.authSucceeded('alice');
    expect(s.apply(cmd('MAIL FROM:<a@b.example>')).allowed).toBe(true);
  });
});
