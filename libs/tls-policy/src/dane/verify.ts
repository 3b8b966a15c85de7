/**
 * Authenticating an SMTP server by its TLSA records (DANE, RFC 7672 §3, RFC 6698 §2.1).
 * Only the usages RFC 7672 §3.1 lets SMTP use count: DANE-EE(3) and DANE-TA(2); PKIX-TA(0)
 * and PKIX-EE(1) are unusable for SMTP (§3.1.3).
 *
 * - DANE-EE: the server's own certificate (selector 0) or public key (1) matches, exactly or
 *   by SHA-256/512. Names and validity dates are not checked (§3.1.1).
 * - DANE-TA: a certificate of the presented chain (not the server's own) matches; the chain
 *   from the server's certificate up to it must verify signature by signature, be within its
 *   dates, and the server's certificate must name the MX host (§3.1.2, §3.2.3).
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { TlsaRecord } from '@mta/dns';
import { certificateMatchesHost } from '../names';

/** Usable for SMTP (RFC 7672 §3.1): DANE-TA or DANE-EE, a known selector and matching type. */
export function usableTlsa(r: TlsaRecord): boolean {
  return (r.usage === 2 || r.usage === 3) && (r.selector === 0 || r.selector === 1) && r.matchingType <= 2;
}

function associated(cert: X509Certificate, r: TlsaRecord): boolean {
  const selected = r.selector === 0 ? cert.raw : cert.publicKey.export({ type: 'spki', format: 'der' });
  const data =
    r.matchingType === 0
      ? selected
      : createHash(r.matchingType === 1 ? 'sha256' : 'sha512')
          .update(selected)
          .digest();
  return data.equals(r.data);
}

/** null: the chain is authenticated by one of `records` for `mx`; else why not. */
export function daneVerify(
  records: readonly TlsaRecord[],
  chain: readonly Buffer[],
  mx: string,
  now: Date = new Date(),
): string | null {
  let certs: X509Certificate[];
  try {
    certs = chain.map((der) => new X509Certificate(der));
  } catch {
    return 'the server sent a certificate that cannot be read';
  }
  if (certs.length === 0) return 'the server sent no certificate';
  const usable = records.filter(usableTlsa);
  if (usable.some((r) => r.usage === 3 && associated(certs[0], r))) return null;
  for (const r of usable.filter((t) => t.usage === 2)) {
    const i = certs.findIndex((c, k) => k > 0 && associated(c, r));
    if (i > 0) return trustAnchoredChain(certs.slice(0, i + 1), mx, now);
  }
  return 'no TLSA record matches the certificate chain';
}

function trustAnchoredChain(certs: readonly X509Certificate[], mx: string, now: Date): string | null {
  for (let k = 0; k + 1 < certs.length; k++) {
    if (!certs[k].checkIssued(certs[k + 1]) || !certs[k].verify(certs[k + 1].publicKey))
      return 'the chain does not verify up to the TLSA trust anchor';
  }
  for (const c of certs.slice(0, -1)) {
    if (now < new Date(c.validFrom) || now > new Date(c.validTo))
      return 'a certificate of the chain is expired';
  }
  return certificateMatchesHost(certs[0].raw, mx) ? null : `the certificate does not name ${mx}`;
}
