/**
 * Where a remote delivery goes: the MX hosts of the destination (RFC 5321 §5.1, through
 * `MxResolver`), or one smart host (`RELAY_HOST`) without any MX lookup.
 */
import net from 'node:net';
import type { AuthCredentials, TlsPolicy } from '@mta/smtp-client';
import type { MxResolver, MxFailure } from '@mta/dns';

/** One host to try, with its addresses in order (a name for a smart host: resolved on connect). */
export interface RouteHost {
  readonly host: string;
  readonly addresses: readonly (string | undefined)[];
  readonly port: number;
}

export type Route = { readonly ok: true; readonly hosts: readonly RouteHost[] } | MxFailure;

export interface RelayHost {
  readonly host: string;
  /** Default 25 (587 is usual for submission to a provider). */
  readonly port?: number;
  readonly auth?: AuthCredentials;
  /** Default: the agent's policy. A relay that takes credentials should have `required`. */
  readonly tls?: TlsPolicy;
  /** Credentials over plaintext (loopback relays and tests only). */
  readonly allowInsecureAuth?: boolean;
}

export async function routeFor(
  domain: string,
  port: number,
  resolver: MxResolver | undefined,
  relay: RelayHost | undefined,
): Promise<Route> {
  if (relay) {
    // A smart host named by address is connected as is; a name is resolved by the OS on connect.
    const address = net.isIP(relay.host) ? relay.host : undefined;
    return { ok: true, hosts: [{ host: relay.host, addresses: [address], port: relay.port ?? 25 }] };
  }
  if (!resolver) throw new Error('RemoteDeliveryAgent: an MxResolver is required without a relay host');
  const mx = await resolver.resolveMx(domain);
  if (!mx.ok) return mx;
  return {
    ok: true,
    hosts: mx.hosts.map((h) => ({ host: h.exchange, addresses: h.addresses.map((a) => a.address), port })),
  };
}

/**
 * `RELAY_HOST` as `host:port`, `[host]:port`, `[IPv6]:port` or `host` (port 25). Postfix's
 * brackets mean "no MX lookup"; a smart host never gets one here, so they only delimit.
 */
export function parseRelayHost(value: string): { host: string; port: number } | string {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(value) ?? /^([^:[\]]+)(?::(\d+))?$/.exec(value);
  if (!m) return `expected host:port, got "${value}"`;
  const port = m[2] === undefined ? 25 : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `port out of range in "${value}"`;
  return { host: m[1], port };
}
