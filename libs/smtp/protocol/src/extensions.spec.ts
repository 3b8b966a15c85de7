import { describe, expect, it } from 'vitest';
import { activeExtensions, ehloKeywords, ehloReply, heloReply, type ServerCapabilities } from './extensions';
import { formatReply } from './reply';

const ALL: ServerCapabilities = {
  pipelining: true,
  maxMessageSize: 52428800,
  eightBitMime: true,
  smtpUtf8: true,
  enhancedStatusCodes: true,
  startTls: true,
  authMechanisms: ['plain', 'LOGIN'],
  dsn: true,
  chunking: true,
  binaryMime: true,
  requireTls: true,
};

describe('activeExtensions / ehloKeywords', () => {
  it('before TLS: STARTTLS, no AUTH, no REQUIRETLS', () => {
    expect(ehloKeywords(activeExtensions(ALL, { tls: false, authenticated: false }))).toEqual([
      'PIPELINING',
      'SIZE 52428800',
      '8BITMIME',
      'SMTPUTF8',
      'ENHANCEDSTATUSCODES',
      'STARTTLS',
      'DSN',
      'CHUNKING',
      'BINARYMIME',
    ]);
  });

  it('after TLS: AUTH and REQUIRETLS, no STARTTLS (RFC 3207 §4.2, RFC 8689 §4.1)', () => {
    expect(ehloKeywords(activeExtensions(ALL, { tls: true, authenticated: false }))).toEqual([
      'PIPELINING',
      'SIZE 52428800',
      '8BITMIME',
      'SMTPUTF8',
      'ENHANCEDSTATUSCODES',
      'AUTH PLAIN LOGIN',
      'DSN',
      'CHUNKING',
      'BINARYMIME',
      'REQUIRETLS',
    ]);
  });

  it('AUTH before TLS only when allowed', () => {
    const ext = activeExtensions({ ...ALL, authWithoutTls: true }, { tls: false, authenticated: false });
    expect(ehloKeywords(ext)).toContain('AUTH PLAIN LOGIN');
  });

  it('no AUTH once authenticated (RFC 4954 §4: a second AUTH is refused)', () => {
    expect(activeExtensions(ALL, { tls: true, authenticated: true }).auth).toEqual([]);
  });

  it('nothing configured, nothing advertised', () => {
    expect(ehloKeywords(activeExtensions({}, { tls: true, authenticated: false }))).toEqual([]);
    expect(
      ehloKeywords(activeExtensions({ authMechanisms: [] }, { tls: true, authenticated: false })),
    ).toEqual([]);
  });

  it('SIZE 0 means no fixed limit (RFC 1870 §4)', () => {
    expect(
      ehloKeywords(activeExtensions({ maxMessageSize: 0 }, { tls: false, authenticated: false })),
    ).toEqual(['SIZE 0']);
  });

  it('BINARYMIME needs CHUNKING', () => {
    expect(activeExtensions({ binaryMime: true }, { tls: false, authenticated: false }).binaryMime).toBe(
      false,
    );
  });
});

describe('ehloReply / heloReply', () => {
  it('renders a multi-line 250 without enhanced codes', () => {
    const ext = activeExtensions(
      { pipelining: true, maxMessageSize: 1000, startTls: true },
      { tls: false, authenticated: false },
    );
    expect(formatReply(ehloReply('mx.example.org', ext, 'Hello client.example'))).toBe(
      '250-mx.example.org Hello client.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 STARTTLS\r\n',
    );
  });

  it('is a single line when nothing is offered', () => {
    expect(
      formatReply(ehloReply('mx.example.org', activeExtensions({}, { tls: false, authenticated: false }))),
    ).toBe('250 mx.example.org\r\n');
    expect(formatReply(heloReply('mx.example.org', 'Hi'))).toBe('250 mx.example.org Hi\r\n');
  });
});
