/**
 * The resolver function the vector specs hand to the checks: the product's own
 * (`createDnsResolve` of @mta/dns, what mx gives mailauth), asking one loopback DNS server,
 * without a cache so that every scenario's zone is asked afresh, and with a short timeout so
 * that the suites' TIMEOUT entries (SPF temperror) cost a quarter of a second each.
 */
import { createDnsResolve } from '@mta/dns';
import type { DNSResolver } from 'mailauth';

export type ResolveFn = DNSResolver;

export function loopbackResolver(server: { host: string; port: number }, timeoutMs = 250): ResolveFn {
  const resolve = createDnsResolve({
    servers: [{ host: server.host, port: server.port }],
    timeoutMs,
    tries: 1,
    cache: false,
  });
  // mailauth declares `string[][] | string[]` but reads MX answers as `{ exchange, priority }`,
  // which createDnsResolve returns as Node's resolver does: the declaration is too narrow.
  return resolve as DNSResolver;
}
