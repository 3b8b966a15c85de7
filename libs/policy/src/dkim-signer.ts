// mailauth ships no types for its DkimSigner: ours are in mailauth-dkim-signer.d.ts, referenced here so
// that every project compiling this file (intake, queue-manager, the apps) sees them.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./mailauth-dkim-signer.d.ts" />
import { DkimSigner, type ParsedHeaderLine } from 'mailauth/lib/dkim/dkim-signer';

export type DkimKeyAlgorithm = 'rsa' | 'ed25519';

/** One key to sign with: `d=`, `s=` and the PKCS#8 PEM private key. */
export interface DkimSigningKey {
  domain: string;
  selector: string;
  algorithm: DkimKeyAlgorithm;
  /** PEM (a string or its bytes). */
  privateKey: string | Buffer;
}

/**
 * The header fields we sign: those RFC 6376 §5.4.1 recommends (From, Reply-To, Subject, Date,
 * To, Cc, Resent-*, In-Reply-To, References, List-*), plus Message-ID, Sender and the MIME
 * fields that decide how the signed body is read. Never trace fields (Received, Return-Path:
 * §5.4.1 "SHOULD NOT"), which change in transit.
 */
export const SIGNED_HEADER_FIELDS = [
  'From',
  'Sender',
  'Reply-To',
  'Subject',
  'Date',
  'Message-ID',
  'To',
  'Cc',
  'MIME-Version',
  'Content-Type',
  'Content-Transfer-Encoding',
  'Resent-Date',
  'Resent-From',
  'Resent-To',
  'Resent-Cc',
  'In-Reply-To',
  'References',
  'List-Id',
  'List-Help',
  'List-Unsubscribe',
  'List-Subscribe',
  'List-Post',
  'List-Owner',
  'List-Archive',
] as const;

/**
 * mailauth's streaming signer with the From field oversigned: `h=` names From once more than
 * the message has From fields. A verifier hashes a name with no instance left as the null string
 * (RFC 6376 §5.4.2), so a From added later, above ours, breaks the signature (§8.15). mailauth
 * lists only the fields present, so the top-most From's name is written twice into `h=`; its
 * bytes are hashed once, as the RFC asks.
 */
class OversigningSigner extends DkimSigner {
  override messageHeaders(headers: { parsed: ParsedHeaderLine[]; original: Buffer }): Promise<void> {
    const topFrom = headers.parsed.find((h) => h.key === 'from');
    if (topFrom?.casedKey) topFrom.casedKey = `${topFrom.casedKey}: ${topFrom.casedKey}`;
    return super.messageHeaders(headers);
  }
}

export interface DkimSignResult {
  /** The DKIM-Signature fields, each CRLF-terminated, to put in front of the message. */
  signatures: string[];
  /** Keys that could not sign (a broken key): selector and reason, never the key. */
  failures: { selector: string; reason: string }[];
}

/**
 * DKIM-signs one message as it streams (RFC 6376, RFC 8463): `write` each chunk of the
 * message as it arrives (header block first), then `finish`. The chunks are hashed, not kept,
 * so a 25 MB message is held once, by whoever stores it. Relaxed/relaxed canonicalization,
 * `t=` set to the signing time, one signature per key (RSA and Ed25519 both: RFC 8463 §5
 * dual signing, so verifiers that do not know Ed25519 still find the RSA one).
 */
export class DkimStreamSigner {
  private readonly signer: DkimSigner;
  private readonly done: Promise<void>;
  private error: Error | null = null;

  constructor(
    readonly keys: readonly DkimSigningKey[],
    signTime: Date = new Date(),
  ) {
    this.signer = new OversigningSigner({
      canonicalization: 'relaxed/relaxed',
      headerList: [...SIGNED_HEADER_FIELDS],
      signTime,
      signatureData: keys.map((k) => ({
        signingDomain: k.domain,
        selector: k.selector,
        privateKey: k.privateKey,
        algorithm: k.algorithm === 'rsa' ? 'rsa-sha256' : 'ed25519-sha256',
        canonicalization: 'relaxed/relaxed',
      })),
    });
    this.done = new Promise((resolve) => {
      this.signer.once('finish', resolve);
      this.signer.once('error', (err: Error) => {
        this.error = err;
        resolve();
      });
    });
  }

  /** Hashes the next chunk of the message (not copied; the caller keeps it unchanged). */
  write(chunk: Buffer): void {
    if (this.error === null) this.signer.write(chunk);
  }

  /** Ends the message; the signatures, or an error if the message could not be read at all. */
  async finish(): Promise<DkimSignResult> {
    this.signer.end();
    await this.done;
    if (this.error) throw this.error;
    return {
      signatures: this.signer.signatureHeaders.map((line) => `${line}\r\n`),
      failures: this.signer.errors.map((e) => ({ selector: e.selector ?? '', reason: e.err.message })),
    };
  }
}

/** Signs a whole message at once (a DSN we compose): the signature fields to put in front. */
export async function dkimSignMessage(
  message: Buffer | Iterable<Buffer>,
  keys: readonly DkimSigningKey[],
  signTime?: Date,
): Promise<DkimSignResult> {
  const signer = new DkimStreamSigner(keys, signTime);
  for (const chunk of Buffer.isBuffer(message) ? [message] : message) signer.write(chunk);
  return signer.finish();
}

/** A key as stored (`dkim_keys`): several may be active while a new selector is rolled out. */
export interface StoredDkimKey {
  selector: string;
  algorithm: DkimKeyAlgorithm;
  privateKey: string;
  active: boolean;
  createdAt: Date;
}

/**
 * The keys that sign for `domain`: of the active keys, the newest of each algorithm, RSA first.
 * Rotation without a gap: publish the new selector's record, check it, activate it; from then
 * the new key signs (it is the newest) while the old one, still active or not, stays in DNS
 * for the mail already on its way.
 */
export function signingKeys(domain: string, keys: readonly StoredDkimKey[]): DkimSigningKey[] {
  const newest = new Map<DkimKeyAlgorithm, StoredDkimKey>();
  for (const key of keys) {
    if (!key.active) continue;
    const current = newest.get(key.algorithm);
    if (!current || key.createdAt > current.createdAt) newest.set(key.algorithm, key);
  }
  return (['rsa', 'ed25519'] as const).flatMap((algorithm) => {
    const key = newest.get(algorithm);
    return key ? [{ domain, selector: key.selector, algorithm, privateKey: key.privateKey }] : [];
  });
}
