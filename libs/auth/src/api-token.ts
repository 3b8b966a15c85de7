import { createHash, randomBytes } from 'node:crypto';

/**
 * Admin API tokens: `mta_<prefix>_<secret>`, where the prefix is 8 random lower-case
 * letters and digits (shown in listings to tell tokens apart) and the secret is 32 random
 * bytes in base64url (43 characters).
 *
 * Only SHA-256 of the whole token is stored. A fast hash is right here, unlike for
 * passwords: the token carries 256 bits of randomness, so nobody can guess it by trying
 * candidates against a leaked hash, and a slow KDF would only make every API request slow.
 */
export interface GeneratedApiToken {
  /** The token itself: give it to the user once, never store it. */
  token: string;
  /** `mta_<prefix>`, safe to store and show. */
  prefix: string;
  /** Hex SHA-256 of `token`, what is stored. */
  hash: string;
}

const PREFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
export const API_TOKEN_PATTERN = /^mta_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$/;

function randomPrefix(): string {
  // 36 letters: reject bytes >= 252 so every character is equally likely.
  let out = '';
  while (out.length < 8) {
    for (const byte of randomBytes(16)) {
      if (byte < 252 && out.length < 8) out += PREFIX_ALPHABET[byte % 36];
    }
  }
  return out;
}

export function generateApiToken(): GeneratedApiToken {
  const prefix = `mta_${randomPrefix()}`;
  const token = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { token, prefix, hash: hashApiToken(token) };
}

/** Hex SHA-256 of a token (any string: also used for the bootstrap token from the environment). */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Whether a string has the shape of a generated token (a cheap check before any lookup). */
export function looksLikeApiToken(value: string): boolean {
  return API_TOKEN_PATTERN.test(value);
}
