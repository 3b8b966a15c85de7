/** Which resolvers to ask: the configured list, or the system's (/etc/resolv.conf). */
import dns from 'node:dns';
import net from 'node:net';
import type { DnsServer } from './transport';

/**
 * Checks a configured list (the config lib parses `DNS_SERVERS` into `{host, port}`); an empty
 * list means the system resolvers as Node reads them from /etc/resolv.conf.
 */
export function resolveServers(configured: readonly DnsServer[] | undefined): DnsServer[] {
  const servers = configured && configured.length > 0 ? configured.map(checked) : systemServers();
  if (servers.length === 0)
    throw new Error('@mta/dns: no DNS servers configured and none in /etc/resolv.conf');
  return servers;
}

function checked(server: DnsServer): DnsServer {
  const host = server.host.replace(/^\[(.*)\]$/, '$1');
  if (!net.isIP(host)) throw new Error(`@mta/dns: DNS server "${server.host}" must be an IP address`);
  if (!Number.isInteger(server.port) || server.port < 1 || server.port > 65535) {
    throw new Error(`@mta/dns: DNS server ${server.host} has an invalid port ${server.port}`);
  }
  return { host, port: server.port };
}

/** `dns.getServers()` gives `1.2.3.4`, `1.2.3.4:5353`, `::1` or `[::1]:5353`. */
export function parseServer(text: string): DnsServer {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) return { host: bracketed[1], port: Number(bracketed[2] ?? 53) };
  if (net.isIPv6(text)) return { host: text, port: 53 };
  const [host, port] = text.split(':');
  return { host, port: Number(port ?? 53) };
}

function systemServers(): DnsServer[] {
  return dns.getServers().map(parseServer).map(checked);
}
