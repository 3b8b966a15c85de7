import { readFile } from 'node:fs/promises';
import type { Logger } from '@mta/observability';
import { generate } from 'selfsigned';

export interface TlsMaterial {
  key: string;
  cert: string;
  selfSigned: boolean;
}

/**
 * The certificate for STARTTLS and port 465: the configured PEM files, or, when none are
 * configured, a self-signed one made at start with a warning. Opportunistic TLS with a
 * self-signed certificate still encrypts port-25 traffic (RFC 7435), but clients that verify
 * (submission users) need a real certificate.
 */
export async function loadTlsMaterial(
  files: { certFile?: string; keyFile?: string },
  hostname: string,
  logger: Logger,
): Promise<TlsMaterial> {
  if (files.certFile && files.keyFile) {
    const [cert, key] = await Promise.all([
      readFile(files.certFile, 'utf8'),
      readFile(files.keyFile, 'utf8'),
    ]);
    return { cert, key, selfSigned: false };
  }
  logger.warn(
    { hostname },
    'no TLS_CERT_FILE/TLS_KEY_FILE configured: using a self-signed certificate made at start',
  );
  const pems = await generate([{ name: 'commonName', value: hostname }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: hostname }] }],
  });
  return { cert: pems.cert, key: pems.private, selfSigned: true };
}
