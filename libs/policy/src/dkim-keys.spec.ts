import { describe, expect, it } from 'vitest';
import { signingKeys, type StoredDkimKey } from './dkim-signer';

const key = (
  selector: string,
  algorithm: 'rsa' | 'ed25519',
  active: boolean,
  day: number,
): StoredDkimKey => ({
  selector,
  algorithm,
  active,
  privateKey: `pem of ${selector}`,
  createdAt: new Date(Date.UTC(2026, 11, day)),
});

describe('signingKeys', () => {
  it('signs with the newest active key of each algorithm, RSA first', () => {
    const keys = [
      key('ed-new', 'ed25519', true, 5),
      key('rsa-old', 'rsa', true, 1),
      key('rsa-new', 'rsa', true, 3),
      key('ed-old', 'ed25519', true, 2),
    ];
    expect(signingKeys('example.org', keys).map((k) => [k.selector, k.algorithm, k.domain])).toEqual([
      ['rsa-new', 'rsa', 'example.org'],
      ['ed-new', 'ed25519', 'example.org'],
    ]);
  });

  it('never signs with an inactive key, even the newest (published, not yet activated)', () => {
    const keys = [key('rsa-old', 'rsa', true, 1), key('rsa-next', 'rsa', false, 4)];
    expect(signingKeys('example.org', keys).map((k) => k.selector)).toEqual(['rsa-old']);
    expect(signingKeys('example.org', [key('off', 'ed25519', false, 1)])).toEqual([]);
  });
});
