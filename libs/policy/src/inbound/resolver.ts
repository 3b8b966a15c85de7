import { createDnsResolve, type DnsResolveOptions } from '@mta/dns';
import type { DNSResolver } from 'mailauth';

export type InboundResolverOptions = DnsResolveOptions;

/**
 * The DNS resolver mailauth's SPF, DKIM, DMARC and ARC code uses: `@mta/dns` (the configured
 * `DNS_SERVERS`, its cache, CNAMEs, TCP fallback) with Node's error codes, so that a timeout or
 * SERVFAIL is a `temperror` and NXDOMAIN/NODATA "no record" (RFC 7208 §2.6.6, §4.3, §4.4).
 */
export function createInboundResolver(options: InboundResolverOptions = {}): DNSResolver {
  const resolve = createDnsResolve(options);
  // mailauth declares its resolver as returning `string[][] | string[]`, but its SPF code also
  // asks for MX and reads `{ exchange, priority }` (lib/spf/spf-verify.js), which is what Node's
  // `dns.promises.resolve` (and so `createDnsResolve`) returns: the declaration is too narrow.
  return resolve as DNSResolver;
}
