/**
 * What we learnt about a TLS session, for Received headers (RFC 8314 §4.3 suggests
 * recording the TLS version and cipher) and for logs.
 */
import type { TLSSocket } from 'node:tls';

export interface TlsFacts {
  /** e.g. `TLSv1.3` */
  readonly protocol: string | null;
  /** OpenSSL cipher name, e.g. `TLS_AES_256_GCM_SHA384` */
  readonly cipher: string | null;
  /** The SNI name we sent, null when connecting by IP literal. */
  readonly servername: string | null;
  /** Whether the peer's certificate chain verified against our trust store (and name, when verified). */
  readonly authorized: boolean;
  /** OpenSSL's reason when not authorized, e.g. `DEPTH_ZERO_SELF_SIGNED_CERT`. */
  readonly authorizationError: string | null;
  /** Peer certificate subject CN, if any. */
  readonly peerSubject: string | null;
  /** Peer certificate issuer CN, if any. */
  readonly peerIssuer: string | null;
  /** SHA-256 fingerprint of the peer certificate. */
  readonly peerFingerprint256: string | null;
  /** The certificates the peer presented (DER), its own first: what DANE matches (RFC 7672). */
  readonly peerChain?: readonly Buffer[];
}

export function tlsFactsOf(socket: TLSSocket, servername: string | null): TlsFacts {
  const cert = socket.getPeerCertificate();
  const hasCert = cert && Object.keys(cert).length > 0;
  const cn = (v: unknown): string | null => {
    const value = (v as Record<string, unknown> | undefined)?.CN;
    return typeof value === 'string' ? value : Array.isArray(value) ? String(value[0]) : null;
  };
  const authError = socket.authorizationError as unknown;
  return {
    protocol: socket.getProtocol() ?? null,
    cipher: socket.getCipher()?.name ?? null,
    servername,
    authorized: socket.authorized,
    authorizationError: authError ? String(authError instanceof Error ? authError.message : authError) : null,
    peerSubject: hasCert ? cn(cert.subject) : null,
    peerIssuer: hasCert ? cn(cert.issuer) : null,
    peerFingerprint256: hasCert ? (cert.fingerprint256 ?? null) : null,
    peerChain: hasCert ? presentedChain(socket) : [],
  };
}

/** The chain as Node gives it (`issuerCertificate` links), without repeating a self-signed root. */
function presentedChain(socket: TLSSocket): Buffer[] {
  const out: Buffer[] = [];
  const seen = new Set<string>();
  let cert = socket.getPeerCertificate(true);
  while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    out.push(cert.raw);
    cert = cert.issuerCertificate;
  }
  return out;
}
