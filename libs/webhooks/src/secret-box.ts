import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Endpoint secrets at rest: the signature scheme needs the secret itself (HMAC), so it cannot be
 * hashed; it is encrypted with AES-256-GCM under WEBHOOK_SECRET_KEY (32 bytes, base64). Stored as
 * iv (12 bytes) | tag (16 bytes) | ciphertext. A wrong key or a changed row fails to decrypt.
 */
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The 32-byte key from its base64 text, or an error text (never containing the value). */
export function parseSecretKey(text: string): Buffer | string {
  const key = Buffer.from(text, 'base64');
  if (key.length !== 32 || key.toString('base64') !== text.replace(/\s+/g, ''))
    return 'expected 32 bytes in base64 (e.g. `openssl rand -base64 32`)';
  return key;
}

export function encryptSecret(key: Buffer, secret: string): Uint8Array<ArrayBuffer> {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return Uint8Array.from(Buffer.concat([iv, cipher.getAuthTag(), ciphertext]));
}

export function decryptSecret(key: Buffer, box: Uint8Array): string {
  const data = Buffer.from(box);
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
  decipher.setAuthTag(data.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(data.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    // Not the key it was stored with: say so without anything of the secret or the key.
    throw new Error('webhook secret does not decrypt with WEBHOOK_SECRET_KEY (was the key changed?)');
  }
}
