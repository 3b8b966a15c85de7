import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashPassword, needsRehash, verifyPassword, DEFAULT_SCRYPT_PARAMS } from './password';

// Low cost for the tests that do not check the defaults, so the suite stays fast.
const FAST = { ln: 10, r: 8, p: 1 };

describe('hashPassword / verifyPassword', () => {
  it('produces a PHC string with the default parameters and verifies it', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(stored).toMatch(/^\$scrypt\$ln=16,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', stored)).toBe(false);
  });

  it('salts: the same password hashes differently each time', async () => {
    const [a, b] = await Promise.all([hashPassword('pw', FAST), hashPassword('pw', FAST)]);
    expect(a).not.toBe(b);
    expect(await verifyPassword('pw', a)).toBe(true);
    expect(await verifyPassword('pw', b)).toBe(true);
  });

  it('is standard scrypt: the hash matches node:crypto for the stored salt and parameters', async () => {
    const stored = await hashPassword('secret', FAST);
    const [, , , salt, hash] = stored.split('$');
    const expected = scryptSync('secret', Buffer.from(salt, 'base64'), 32, { N: 1024, r: 8, p: 1 });
    expect(Buffer.from(hash, 'base64').equals(expected)).toBe(true);
  });

  it('normalises Unicode: composed and decomposed forms are the same password', async () => {
    const stored = await hashPassword('caf\u00e9', FAST);
    expect(await verifyPassword('cafe\u0301', stored)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['not PHC', 'plaintext'],
    ['other algorithm', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'],
    ['cost out of range', '$scrypt$ln=30,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA'],
    ['bad base64', '$scrypt$ln=10,r=8,p=1$!!!$???'],
  ])('never matches a malformed stored hash (%s) and does not throw', async (_name, stored) => {
    expect(await verifyPassword('anything', stored)).toBe(false);
  });

  it('refuses absurdly long passwords', async () => {
    await expect(hashPassword('x'.repeat(2000), FAST)).rejects.toThrow(RangeError);
    const stored = await hashPassword('x', FAST);
    expect(await verifyPassword('x'.repeat(2000), stored)).toBe(false);
  });
});

describe('needsRehash', () => {
  it('is false for a hash with the current defaults', async () => {
    expect(needsRehash(await hashPassword('pw'))).toBe(false);
  });

  it('is true for weaker parameters or a malformed string', async () => {
    expect(needsRehash(await hashPassword('pw', FAST))).toBe(true);
    expect(needsRehash('garbage')).toBe(true);
    expect(needsRehash(await hashPassword('pw', FAST), FAST)).toBe(false);
    expect(DEFAULT_SCRYPT_PARAMS.ln).toBeGreaterThanOrEqual(15);
  });
});
