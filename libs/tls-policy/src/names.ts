/**
 * Certificate name checks for authenticated outbound TLS.
 *
 * RFC 8461 §4.1 (MTA-STS): the MX host name must match a DNS-ID subjectAltName; a wildcard
 * only as the whole left-most label; the subject CN is not used. Node's default
 * `checkServerIdentity` falls back to the CN when there is no DNS SAN, so we pass this one.
 */
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';

export function certificateMatchesHost(raw: Buffer, host: string): boolean {
  try {
    return (
      new X509Certificate(raw).checkHost(host, {
        subject: 'never',
        wildcards: true,
        partialWildcards: false,
        multiLabelWildcards: false,
        singleLabelSubdomains: false,
      }) !== undefined
    );
  } catch {
    return false;
  }
}

/** A `checkServerIdentity` for `tls.connect` that applies RFC 8461 §4.1 to the MX name. */
export function checkDnsIdentity(host: string, cert: PeerCertificate): Error | undefined {
  if (cert.raw && certificateMatchesHost(cert.raw, host)) return undefined;
  const err = new Error(`certificate is not valid for ${host} (no matching DNS subjectAltName)`);
  return Object.assign(err, { code: 'ERR_TLS_CERT_ALTNAME_INVALID', host });
}
