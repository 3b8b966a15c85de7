import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCapabilityLines, parseEhloReply } from './capabilities';
import { activeExtensions, ehloKeywords, ehloReply, type ServerCapabilities } from './extensions';
import { ReplyReader } from './reply-reader';
import { replyToBuffer } from './reply';

describe('parseCapabilityLines (RFC 5321 §4.1.1.1)', () => {
  it('reads every extension the client uses', () => {
    const caps = parseCapabilityLines([
      'PIPELINING',
      'SIZE 10240000',
      '8BITMIME',
      'SMTPUTF8',
      'STARTTLS',
      'AUTH PLAIN LOGIN CRAM-MD5',
      'DSN',
      'CHUNKING',
      'ENHANCEDSTATUSCODES',
      'REQUIRETLS',
    ]);
    expect(caps).toMatchObject({
      pipelining: true,
      size: 10240000,
      eightBitMime: true,
      smtpUtf8: true,
      startTls: true,
      auth: ['PLAIN', 'LOGIN', 'CRAM-MD5'],
      dsn: true,
      chunking: true,
      enhancedStatusCodes: true,
      requireTls: true,
    });
  });

  it.each([
    ['SIZE', 0],
    ['SIZE 0', 0],
    ['SIZE nonsense', 0],
    ['size 52428800', 52428800],
  ])('%s → size %d (RFC 1870 §4)', (line, size) => {
    expect(parseCapabilityLines([line]).size).toBe(size);
  });

  it('treats keywords case-insensitively, accepts AUTH=, ignores blank lines', () => {
    const caps = parseCapabilityLines(['pipelining', 'AUTH=login plain', '', '  ']);
    expect(caps.pipelining).toBe(true);
    expect(caps.auth).toEqual(['LOGIN', 'PLAIN']);
    expect(caps.size).toBeNull();
    expect(caps.startTls).toBe(false);
  });

  it('reads back every EHLO reply that ehloReply writes (server and client agree)', () => {
    const caps: fc.Arbitrary<ServerCapabilities> = fc.record(
      {
        pipelining: fc.boolean(),
        maxMessageSize: fc.nat(),
        eightBitMime: fc.boolean(),
        smtpUtf8: fc.boolean(),
        enhancedStatusCodes: fc.boolean(),
        startTls: fc.boolean(),
        authMechanisms: fc.uniqueArray(fc.constantFrom('PLAIN', 'login', 'CRAM-MD5', 'XOAUTH2'), {
          selector: (m) => m.toUpperCase(),
        }),
        authWithoutTls: fc.boolean(),
        dsn: fc.boolean(),
        chunking: fc.boolean(),
        binaryMime: fc.boolean(),
        requireTls: fc.boolean(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(caps, fc.boolean(), fc.boolean(), (c, tls, authenticated) => {
        const ext = activeExtensions(c, { tls, authenticated });
        const [reply] = new ReplyReader().push(replyToBuffer(ehloReply('mx.example.org', ext, 'hi')));
        const { raw, ...parsed } = parseEhloReply(reply);
        expect(parsed).toEqual(ext);
        expect([...raw.keys()]).toEqual(ehloKeywords(ext).map((k) => k.split(' ')[0]));
      }),
    );
  });
});
