/**
 * DANE for SMTP (RFC 7672 §2): with a validating resolver the operator names, a domain whose MX
 * RRset is DNSSEC-validated has its MX hosts' TLSA records looked up; a host with usable ones is
 * authenticated by them, never reached in clear text. A host whose TLSA lookup fails (SERVFAIL,
 * which is also how a bogus signature shows) is not used at all (§2.2.2).
 */
import { lookupSecureMx, lookupTlsa, type DnsServer, type TlsaRecord } from '@mta/dns';
import { usableTlsa } from './verify';

export type HostDane =
  /** Validated TLSA records for the host (RFC 7672 §2.2.3). */
  | { readonly status: 'tlsa'; readonly records: readonly TlsaRecord[] }
  /** Validated: no TLSA, or only unusable ones: TLS is still required (§2.2, "all unusable"). */
  | { readonly status: 'unusable' }
  /** No TLSA (validated denial) or an unsigned zone: no DANE for this host. */
  | { readonly status: 'none' }
  /** The lookup failed: the host must not be used. */
  | { readonly status: 'failed'; readonly reason: string };

export interface DaneOptions {
  /** The validating resolver (`DANE_RESOLVER`): its AD bit is believed, nobody else's. */
  readonly resolver: DnsServer;
  readonly timeoutMs?: number;
}

export class DanePolicies {
  constructor(private readonly options: DaneOptions) {}

  /**
   * Per MX host, what DANE says; null when the domain's MX RRset is not validated (an unsigned
   * zone, or it did not resolve securely): then DANE does not apply (§2.2.1).
   */
  async lookup(
    domain: string,
    hosts: readonly string[],
    port: number,
  ): Promise<Map<string, HostDane> | null> {
    const mx = await lookupSecureMx(domain, this.options);
    if (mx.status !== 'secure') return null;
    const out = new Map<string, HostDane>();
    await Promise.all(
      hosts.map(async (host) => {
        const tlsa = await lookupTlsa(host, port, this.options);
        out.set(host.toLowerCase(), hostDane(tlsa));
      }),
    );
    return out;
  }
}

function hostDane(tlsa: Awaited<ReturnType<typeof lookupTlsa>>): HostDane {
  if (tlsa.status === 'failed') return { status: 'failed', reason: tlsa.reason };
  if (tlsa.status !== 'secure') return { status: 'none' };
  const records = tlsa.records.filter(usableTlsa);
  return records.length > 0 ? { status: 'tlsa', records } : { status: 'unusable' };
}
