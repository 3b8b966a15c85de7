/**
 * Test support: keys and the independent signers of Debian's python3-dkim (`dkimsign`,
 * `arcsign`, dkimpy), so that what our verifier accepts was signed by code nobody here wrote.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestKey {
  algorithm: 'rsa' | 'ed25519';
  /** the private key as dkimpy reads it: PKCS#1 PEM (RSA), base64 of the 32-octet seed (Ed25519) */
  privateKey: string;
  /** the PKCS#8 PEM, as mailauth reads it */
  privatePem: string;
  /** the DKIM key record (RFC 6376 §3.6.1, RFC 8463 §4) */
  record: string;
}

export function rsaKey(bits = 2048): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  return {
    algorithm: 'rsa',
    privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    record: `v=DKIM1; k=rsa; p=${p}`,
  };
}

export function ed25519Key(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  // RFC 8410: the raw key is the last 32 octets of the DER encodings.
  const seed = privateKey.export({ type: 'pkcs8', format: 'der' }).subarray(-32);
  const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);
  return {
    algorithm: 'ed25519',
    privateKey: seed.toString('base64'),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    record: `v=DKIM1; k=ed25519; p=${raw.toString('base64')}`,
  };
}

/** The DKIM key record split into 255-octet character-strings (RFC 1035 §3.3.14). */
export function txtStrings(record: string): string[] {
  return record.match(/.{1,255}/g) ?? [''];
}

function withKeyFile<T>(key: TestKey, run: (file: string) => T): T {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dkim-'));
  try {
    const file = path.join(dir, 'key');
    writeFileSync(file, key.privateKey);
    return run(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `message` signed by dkimpy's `dkimsign` (relaxed/relaxed): signature field + message. */
export function dkimsign(message: Buffer, domain: string, selector: string, key: TestKey): Buffer {
  const signalg = key.algorithm === 'rsa' ? 'rsa-sha256' : 'ed25519-sha256';
  return withKeyFile(key, (file) =>
    execFileSync(
      '/usr/bin/python3',
      [
        '/usr/bin/dkimsign',
        '--hcanon',
        'relaxed',
        '--bcanon',
        'relaxed',
        '--signalg',
        signalg,
        selector,
        domain,
        file,
      ],
      { input: message },
    ),
  );
}

/** `message` ARC-sealed by dkimpy's `arcsign` as `srvId` (its Authentication-Results must be on top). */
export function arcsign(
  message: Buffer,
  domain: string,
  selector: string,
  key: TestKey,
  srvId: string,
): Buffer {
  return withKeyFile(key, (file) =>
    execFileSync('/usr/bin/python3', ['/usr/bin/arcsign', selector, domain, file, srvId], { input: message }),
  );
}

const ARC_VERIFY_PY = `
import json, sys, dkim
records = json.loads(sys.argv[1])
def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    value = records.get(name.rstrip('.').lower())
    return value.encode() if value is not None else None
cv, results, comment = dkim.arc_verify(sys.stdin.buffer.read(), dnsfunc=dnsfunc)
print(json.dumps({'cv': cv.decode(), 'instances': len(results), 'comment': comment}))
`;

/** dkimpy's ARC chain validation (RFC 8617 §5.2) with `records` (name -> TXT) as its DNS. */
export function arcverify(
  message: Buffer,
  records: Record<string, string>,
): { cv: string; instances: number; comment: string } {
  const out = execFileSync('/usr/bin/python3', ['-c', ARC_VERIFY_PY, JSON.stringify(records)], {
    input: message,
  });
  return JSON.parse(out.toString());
}
