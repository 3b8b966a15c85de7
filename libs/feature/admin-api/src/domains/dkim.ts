import { generateKeyPairSync, randomBytes } from 'node:crypto';

export type DkimAlgorithm = 'rsa' | 'ed25519';

export interface DkimKeyPair {
  /** PKCS#8 PEM; store it, never show it. */
  privateKey: string;
  /** The `p=` value (RFC 6376 §3.6.1; RFC 8463 §4 for ed25519). */
  publicKey: string;
}

/**
 * A new DKIM key pair. RSA: 2048 bits, `p=` is the base64 SubjectPublicKeyInfo. Ed25519:
 * `p=` is the base64 of the raw 32-byte public key (RFC 8463), which is the tail of its
 * SubjectPublicKeyInfo.
 */
export function generateDkimKey(algorithm: DkimAlgorithm): DkimKeyPair {
  if (algorithm === 'rsa') {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return {
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    };
  }
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: spki.subarray(spki.length - 32).toString('base64'),
  };
}

/** A selector that sorts by creation month and does not collide: `mta202611` + 4 hex digits. */
export function generateSelector(now = new Date()): string {
  const month = `${now.getUTCFullYear()}${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
  return `mta${month}${randomBytes(2).toString('hex')}`;
}

/** The TXT record data `v=DKIM1; k=...; p=...`. */
export function dkimRecordText(algorithm: DkimAlgorithm, publicKey: string): string {
  return `v=DKIM1; k=${algorithm}; p=${publicKey}`;
}

/** Splits TXT data into character-strings of at most 255 bytes (RFC 1035 §3.3.14). */
export function splitTxt(text: string, size = 255): string[] {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts.length > 0 ? parts : [''];
}

/** TXT data in zone file syntax: `"part1" "part2"`, quotes and backslashes escaped. */
export function zoneTxt(parts: string[]): string {
  return parts.map((p) => `"${p.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(' ');
}
