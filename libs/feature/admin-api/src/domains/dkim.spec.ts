import { createPublicKey, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dkimRecordText, generateDkimKey, generateSelector, splitTxt, zoneTxt } from './dkim';

describe('generateDkimKey', () => {
  it('rsa: p= is the SubjectPublicKeyInfo of a 2048-bit key matching the private key', () => {
    const pair = generateDkimKey('rsa');
    const publicKey = createPublicKey({
      key: Buffer.from(pair.publicKey, 'base64'),
      format: 'der',
      type: 'spki',
    });
    expect(publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(pair.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const signature = sign('sha256', Buffer.from('m'), pair.privateKey);
    expect(verify('sha256', Buffer.from('m'), publicKey, signature)).toBe(true);
  });

  it('ed25519: p= is the raw 32-byte public key (RFC 8463)', () => {
    const pair = generateDkimKey('ed25519');
    const raw = Buffer.from(pair.publicKey, 'base64');
    expect(raw).toHaveLength(32);
    // Rebuild the SPKI from the raw key: the fixed 12-byte Ed25519 prefix, then the key.
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]);
    const publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    const signature = sign(null, Buffer.from('m'), pair.privateKey);
    expect(verify(null, Buffer.from('m'), publicKey, signature)).toBe(true);
  });
});

describe('TXT helpers', () => {
  it('splits into strings of at most 255 characters that join back', () => {
    const text = dkimRecordText('rsa', 'A'.repeat(600));
    const parts = splitTxt(text);
    expect(parts.map((p) => p.length)).toEqual([255, 255, text.length - 510]);
    expect(parts.join('')).toBe(text);
    expect(splitTxt('')).toEqual(['']);
  });

  it('quotes for a zone file', () => {
    expect(zoneTxt(['v=DKIM1; k=rsa', 'p="x"\\'])).toBe('"v=DKIM1; k=rsa" "p=\\"x\\"\\\\"');
  });

  it('generates distinct selectors that are DNS labels', () => {
    const selector = generateSelector(new Date('2026-03-05T00:00:00Z'));
    expect(selector).toMatch(/^mta202603[0-9a-f]{4}$/);
  });
});
