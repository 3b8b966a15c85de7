/**
 * The HTTPS side of MTA-STS for tests (RFC 8461 §3.3): serves
 * `https://mta-sts.<domain>/.well-known/mta-sts.txt` on a loopback address, port 443 (the port
 * the policy is fetched from; root only), with a certificate per host name (SNI) and a policy
 * per host that a test can change. Counts the fetches.
 */
import https from 'node:https';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';

export interface PolicyHost {
  /** PEM chain and key presented for this name. */
  readonly chain: string;
  readonly key: string;
  /** The policy text, or an HTTP status to answer instead. */
  policy: string | number;
}

export interface MtaStsServer {
  readonly address: string;
  /** `mta-sts.<domain>` → what it serves; change `policy` at will. */
  readonly hosts: Map<string, PolicyHost>;
  fetches(host: string): number;
  close(): Promise<void>;
}

export async function startMtaStsServer(address: string, port = 443): Promise<MtaStsServer> {
  const hosts = new Map<string, PolicyHost>();
  const counts = new Map<string, number>();
  const contexts = new Map<string, tls.SecureContext>();
  const contextFor = (name: string): tls.SecureContext | undefined => {
    const h = hosts.get(name);
    if (!h) return undefined;
    const id = `${name}|${h.chain.length}|${h.key.length}`;
    let ctx = contexts.get(id);
    if (!ctx) contexts.set(id, (ctx = tls.createSecureContext({ cert: h.chain, key: h.key })));
    return ctx;
  };
  const server = https.createServer(
    { SNICallback: (name, cb) => cb(null, contextFor(name.toLowerCase())) },
    (req, res) => {
      const host = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
      counts.set(host, (counts.get(host) ?? 0) + 1);
      const h = hosts.get(host);
      if (!h || req.url !== '/.well-known/mta-sts.txt') return void res.writeHead(404).end();
      if (typeof h.policy === 'number') return void res.writeHead(h.policy).end();
      res.writeHead(200, { 'content-type': 'text/plain' }).end(h.policy);
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve());
  });
  return {
    address: (server.address() as AddressInfo).address,
    hosts,
    fetches: (host) => counts.get(host) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An RFC 8461 §3.2 policy file. */
export function mtaStsPolicy(
  mode: 'enforce' | 'testing' | 'none',
  mx: readonly string[],
  maxAge = 86_400,
): string {
  return ['version: STSv1', `mode: ${mode}`, ...mx.map((m) => `mx: ${m}`), `max_age: ${maxAge}`, ''].join(
    '\r\n',
  );
}
