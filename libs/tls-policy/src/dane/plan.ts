/**
 * The plan of a domain with DANE (RFC 7672): hosts with usable TLSA records need TLS and are
 * authenticated by them (`verifyPeer`); hosts whose TLSA records are all unusable still need
 * TLS (§2.2); a host whose TLSA lookup failed is not used (§2.2.2); hosts without TLSA follow
 * the domain's MTA-STS plan, or opportunistic TLS. Nothing under DANE falls back to clear text.
 */
import type { TlsPlan, HostTls, SessionEvent } from '../plan';
import type { ReportPolicy, TlsRptRecorder } from '../tlsrpt/store';
import type { HostDane } from './dane';
import { daneVerify } from './verify';

export function danePlan(
  base: TlsPlan,
  hosts: ReadonlyMap<string, HostDane>,
  requireTls: boolean,
  recorder?: TlsRptRecorder,
): TlsPlan {
  const daneOf = (mx: string): HostDane => hosts.get(mx.toLowerCase()) ?? { status: 'none' };
  const refuse = (reason: string): HostTls => ({ allowed: false, reason, tls: 'required', label: 'dane' });
  const host = (mx: string): HostTls => {
    const d = daneOf(mx);
    if (d.status === 'tlsa')
      return {
        allowed: true,
        tls: 'required',
        label: 'dane',
        verifyPeer: (chain) => daneVerify(d.records, chain, mx),
      };
    if (d.status === 'failed') return refuse(`DANE: the TLSA lookup for ${mx} failed (${d.reason})`);
    if (requireTls && !(d.status === 'none' && base.authenticated))
      return refuse(`REQUIRETLS: ${mx} is not authenticated by DANE or MTA-STS`);
    if (d.status === 'unusable') return { allowed: true, tls: 'required', label: 'dane' };
    return base.host(mx);
  };
  const plan: TlsPlan = {
    domain: base.domain,
    label: 'dane',
    authenticated: true,
    ...(base.mtaSts ? { mtaSts: base.mtaSts } : {}),
    host,
    judge: (mx, tls) => (daneOf(mx).status === 'none' ? base.judge(mx, tls) : null),
    observe(event) {
      const d = daneOf(event.mx);
      if (d.status === 'none') return base.observe(event);
      if (!recorder) return;
      const verdict = daneVerdict(event, d);
      if (!verdict) return;
      const policy = reportPolicy(base.domain, event.mx, d);
      if (verdict === 'ok') return recorder.success(base.domain, policy);
      recorder.failure(base.domain, policy, {
        'result-type': verdict,
        'receiving-mx-hostname': event.mx,
        ...(event.address ? { 'receiving-ip': event.address } : {}),
      });
    },
  };
  return plan;
}

/** RFC 8460 §4.3.2.2 result types of a DANE host's attempt; null: not a TLS matter. */
function daneVerdict(event: SessionEvent, d: HostDane): string | null {
  if (d.status === 'failed') return 'dnssec-invalid';
  if (event.error?.enhanced === '4.7.4') return 'starttls-not-supported';
  if (event.error?.enhanced === '4.7.5') return d.status === 'tlsa' ? 'tlsa-invalid' : 'validation-failure';
  if (event.error) return null;
  return event.tls === undefined ? null : 'ok';
}

/** §4.4: `policy-type` tlsa, the records in presentation format (`3 1 1 <hex>`). */
function reportPolicy(domain: string, mx: string, d: HostDane): ReportPolicy {
  return {
    'policy-type': 'tlsa',
    ...(d.status === 'tlsa'
      ? {
          'policy-string': d.records.map(
            (r) => `${r.usage} ${r.selector} ${r.matchingType} ${r.data.toString('hex')}`,
          ),
        }
      : {}),
    'policy-domain': domain,
    'mx-host': [mx],
  };
}
