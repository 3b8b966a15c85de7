import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { API_TOKEN_PATTERN, generateApiToken, hashApiToken, looksLikeApiToken } from './api-token';

describe('generateApiToken', () => {
  it('has the documented shape, and its prefix is the start of the token', () => {
    const { token, prefix, hash } = generateApiToken();
    expect(token).toMatch(API_TOKEN_PATTERN);
    expect(prefix).toMatch(/^mta_[a-z0-9]{8}$/);
    expect(token.startsWith(`${prefix}_`)).toBe(true);
    expect(hash).toBe(hashApiToken(token));
    expect(looksLikeApiToken(token)).toBe(true);
  });

  it('is random: no two tokens or prefixes repeat over many draws', () => {
    const tokens = Array.from({ length: 500 }, () => generateApiToken());
    expect(new Set(tokens.map((t) => t.token)).size).toBe(500);
    expect(new Set(tokens.map((t) => t.prefix)).size).toBeGreaterThan(495);
  });
});

describe('hashApiToken', () => {
  it('is hex SHA-256 of the token', () => {
    expect(hashApiToken('abc')).toBe(createHash('sha256').update('abc').digest('hex'));
    expect(hashApiToken('abc')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('looksLikeApiToken refuses other strings', () => {
    expect(looksLikeApiToken('mta_short_x')).toBe(false);
    expect(looksLikeApiToken('a-bootstrap-token-from-the-environment')).toBe(false);
  });
});
