/**
 * The destination that traffic shaping keys by, with `DELIVERY_SHAPING_BY`:
 *
 * - `domain` (the default): the recipient domain of the delivery job.
 * - `mx`: the set of MX hosts the domain's mail goes to, KumoMTA's "site". Domains hosted by one
 *   provider (hundreds of domains on the same MX hosts) then share one budget of connections and
 *   messages per second, as the receiver sees them: RFC 5321 §4.5.4.1 asks a client to limit
 *   its simultaneous connections to one host, not to one domain.
 *
 * A site's key is `mx:` and its MX host names, lower case, sorted, joined by commas
 * (`mx:mx1.example.net,mx2.example.net`); a domain without MX records is its own implicit MX
 * (RFC 5321 §5.1), so its site is `mx:<domain>`. The lookup is the remote agent's own
 * `MxResolver`, whose cache then answers the agent's lookup of the same domain. When the lookup
 * fails the key is the domain: the delivery goes on to the agent, which reports the failure as
 * it would have.
 */
import type { MxResolver } from '@mta/dns';
import type { DeliveryRequest } from '../contract';
import { defaultDestination } from './limited-agent';

export type ShapingKeying = 'domain' | 'mx';

const SITE = 'mx:';

/** The site of a set of MX host names. */
export function siteKey(exchanges: readonly string[]): string {
  const names = [...new Set(exchanges.map((e) => e.toLowerCase().replace(/\.$/, '')))].sort();
  return SITE + names.join(',');
}

/** The MX host names of a site key; empty for a domain. */
export function siteHosts(destination: string): string[] {
  return destination.startsWith(SITE) ? destination.slice(SITE.length).split(',') : [];
}

/** The shaping key of a request under `mx` keying. */
export function mxSiteOf(
  resolver: Pick<MxResolver, 'resolveMx'>,
): (request: DeliveryRequest) => Promise<string> {
  return async (request) => {
    const domain = defaultDestination(request);
    const mx = await resolver.resolveMx(domain).catch(() => undefined);
    if (!mx?.ok || mx.hosts.length === 0) return domain;
    return siteKey(mx.hosts.map((h) => h.exchange));
  };
}
