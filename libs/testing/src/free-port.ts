import { readFileSync } from 'node:fs';
import net from 'node:net';

/**
 * Ports for tests come from below the kernel's ephemeral range. A port the kernel picked
 * (`listen(0)`) and then released can be handed again, before the test's server binds it, to
 * any outgoing connection (a pooled PostgreSQL or Redis client lives for the whole suite) or any
 * other `listen(0)`: that collision failed a stack's start with EADDRINUSE under parallel suites.
 * Below the range only another explicit pick can collide, and picks are spread at random.
 */
const LOWEST = 10_000;

function ephemeralLow(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const value = Number(low);
    return Number.isInteger(value) && value > LOWEST + 1_000 ? value : 32_768;
  } catch {
    return 32_768;
  }
}

const below = ephemeralLow();
const randomPort = (): number => LOWEST + Math.floor(Math.random() * (below - LOWEST));

/** A port that binds on every one of `hosts` now: tried at random below the ephemeral range. */
async function pick(hosts: readonly string[]): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = randomPort();
    const free = await Promise.all(
      hosts.map((h) =>
        bindAndRelease(h, port).then(
          () => true,
          () => false,
        ),
      ),
    );
    if (free.every(Boolean)) return port;
  }
  throw new Error(`no free port on ${hosts.join(', ')} in ${LOWEST}-${below - 1} after 200 tries`);
}

/** A TCP port that was free on `host` (any 127.0.0.x) a moment ago, outside the range the kernel hands out. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return pick([host]);
}

/** A port that was free on every one of `hosts` a moment ago (test MXs share `DELIVERY_PORT`). */
export const portFreeOn = (hosts: readonly string[]): Promise<number> => pick(hosts);

function bindAndRelease(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(port, host, () => {
      const bound = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(bound));
    });
  });
}
