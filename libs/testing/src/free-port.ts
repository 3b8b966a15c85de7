import net from 'node:net';

/** A TCP port that was free on `host` a moment ago (the OS picks it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A port free on `host` a moment ago (`host` may be any 127.0.0.x). */
export const freePortOn = (host = '127.0.0.1'): Promise<number> => bindAndRelease(host, 0);

/** A port that was free on every one of `hosts` a moment ago (test MXs share `DELIVERY_PORT`). */
export async function portFreeOn(hosts: readonly string[]): Promise<number> {
  for (;;) {
    const port = await bindAndRelease(hosts[0], 0);
    const rest = await Promise.all(hosts.slice(1).map((h) => bindAndRelease(h, port).catch(() => -1)));
    if (rest.every((p) => p === port)) return port;
  }
}

function bindAndRelease(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(port, host, () => {
      const bound = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(bound));
    });
  });
}
