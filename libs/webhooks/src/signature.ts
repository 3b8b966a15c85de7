import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The Standard Webhooks signature scheme (https://www.standardwebhooks.com, spec v1.0.0, the
 * one Svix uses): the secret is `whsec_` + base64 of random bytes, and the key of the HMAC is
 * those bytes; each request carries `webhook-id`, `webhook-timestamp` (Unix seconds) and
 * `webhook-signature` = `v1,` + base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`)).
 * Receivers refuse a timestamp too far from their clock (replays) and deduplicate on the id.
 */
export const SECRET_PREFIX = 'whsec_';

/** Secret bytes: the spec allows 24 to 64; 32 as Svix. */
const SECRET_BYTES = 32;

/** A new endpoint secret in the spec's text form (`whsec_...`). */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/** The HMAC key of a `whsec_` secret: the base64-decoded part after the prefix. */
export function secretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('a webhook secret starts with whsec_');
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

/** `v1,<base64>`: the signature of one request. */
export function sign(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

export type SignedHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/** The three headers of a request with this id and body, signed now (or at `now`). */
export function signedHeaders(secret: string, id: string, body: string, now = Date.now()): SignedHeaders {
  const timestamp = Math.floor(now / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': sign(secret, id, timestamp, body),
  };
}

/**
 * What a receiver does: true when one of the space-separated `v1,` signatures matches and the
 * timestamp is within `toleranceS` of now (the spec suggests 5 minutes). For our own tests.
 */
export function verify(
  secret: string,
  headers: SignedHeaders,
  body: string,
  { now = Date.now(), toleranceS = 300 } = {},
): boolean {
  const timestamp = Number(headers['webhook-timestamp']);
  if (!Number.isInteger(timestamp) || Math.abs(now / 1000 - timestamp) > toleranceS) return false;
  const expected = Buffer.from(sign(secret, headers['webhook-id'], timestamp, body));
  return headers['webhook-signature'].split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
