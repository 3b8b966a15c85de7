import { describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret, parseSecretKey } from './secret-box';
import { generateSecret, secretKey, sign, signedHeaders, verify } from './signature';

describe('Standard Webhooks signature', () => {
  // The example of the Standard Webhooks specification (spec/standard-webhooks.md, "Signature
  // scheme"), as its reference libraries test it.
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const timestamp = 1614265330;
  const body = '{"test": 2432232314}';

  it('signs the spec example as the spec does', () => {
    expect(sign(secret, id, timestamp, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('signedHeaders: id, Unix seconds, and the signature of exactly that', () => {
    const headers = signedHeaders(secret, id, body, timestamp * 1000 + 999);
    expect(headers).toEqual({
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': sign(secret, id, timestamp, body),
    });
    expect(verify(secret, headers, body, { now: timestamp * 1000 })).toBe(true);
  });

  it.each([
    ['a changed body', { body: '{"test": 2432232315}' }],
    ['another secret', { secret: generateSecret() }],
    ['a timestamp 301 s old', { now: (timestamp + 301) * 1000 }],
    ['a timestamp 301 s ahead', { now: (timestamp - 301) * 1000 }],
  ])('refuses %s', (_what, change: { body?: string; secret?: string; now?: number }) => {
    const headers = signedHeaders(secret, id, body, timestamp * 1000);
    expect(
      verify(change.secret ?? secret, headers, change.body ?? body, { now: change.now ?? timestamp * 1000 }),
    ).toBe(false);
  });

  it('refuses a signature moved to another id', () => {
    const headers = { ...signedHeaders(secret, id, body, timestamp * 1000), 'webhook-id': 'msg_other' };
    expect(verify(secret, headers, body, { now: timestamp * 1000 })).toBe(false);
  });

  it('accepts a timestamp exactly 300 s old, and one of several signatures', () => {
    const headers = signedHeaders(secret, id, body, timestamp * 1000);
    expect(verify(secret, headers, body, { now: (timestamp + 300) * 1000 })).toBe(true);
    const several = { ...headers, 'webhook-signature': `v1,bm90IGl0 ${headers['webhook-signature']}` };
    expect(verify(secret, several, body, { now: timestamp * 1000 })).toBe(true);
  });

  it('generates whsec_ secrets of 32 random bytes', () => {
    const a = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(secretKey(a)).toHaveLength(32);
    expect(generateSecret()).not.toBe(a);
    expect(() => secretKey('not-a-secret')).toThrow(/whsec_/);
  });
});

describe('secret box (AES-256-GCM under WEBHOOK_SECRET_KEY)', () => {
  const key = Buffer.alloc(32, 7);

  it('round-trips, with a fresh IV each time, and never stores the secret in clear', () => {
    const secret = generateSecret();
    const a = encryptSecret(key, secret);
    const b = encryptSecret(key, secret);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(Buffer.from(a).toString('latin1')).not.toContain(secret.slice(6, 20));
    expect(decryptSecret(key, a)).toBe(secret);
  });

  it('refuses another key and a changed box, without showing either', () => {
    const box = encryptSecret(key, 'whsec_c2VjcmV0');
    expect(() => decryptSecret(Buffer.alloc(32, 8), box)).toThrow(/does not decrypt with WEBHOOK_SECRET_KEY/);
    const changed = Uint8Array.from(box);
    changed[changed.length - 1] ^= 1;
    expect(() => decryptSecret(key, changed)).toThrow(/does not decrypt/);
  });

  it.each([
    [Buffer.alloc(32, 1).toString('base64'), true],
    [Buffer.alloc(31, 1).toString('base64'), false],
    [Buffer.alloc(33, 1).toString('base64'), false],
    ['not base64 at all!', false],
  ])('parseSecretKey(%s) is a key: %s', (text, ok) => {
    expect(Buffer.isBuffer(parseSecretKey(text))).toBe(ok);
  });
});
