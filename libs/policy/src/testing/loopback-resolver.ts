/**
 * The resolver function the vector specs hand to the checks, asking one loopback DNS server.
 * Interim: Node's stub resolver until @mta/dns exports its own `resolve(name, rrtype)`.
 */
import { Resolver } from 'node:dns/promises';

export type ResolveFn = (name: string, rrtype: string) => Promise<unknown>;

export function loopbackResolver(server: { host: string; port: number }, timeoutMs = 250): ResolveFn {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  resolver.setServers([`${server.host}:${server.port}`]);
  return (name, rrtype) => resolver.resolve(name, rrtype);
}
