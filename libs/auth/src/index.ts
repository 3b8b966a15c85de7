/**
 * @mta/auth: password hashing (scrypt, PHC strings) for accounts and SMTP AUTH, and admin API
 * tokens. Plain TypeScript on node:crypto, no framework.
 */
export {
  hashPassword,
  verifyPassword,
  needsRehash,
  DEFAULT_SCRYPT_PARAMS,
  MAX_PASSWORD_LENGTH,
  type ScryptParams,
} from './password';
export {
  generateApiToken,
  hashApiToken,
  looksLikeApiToken,
  API_TOKEN_PATTERN,
  type GeneratedApiToken,
} from './api-token';
