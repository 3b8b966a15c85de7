import { readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, portFreeOn } from './free-port';

const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

const listen = (port: number, host: string) =>
  new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });

describe('freePort', () => {
  it('hands out ports below the ephemeral range, which a server can then bind', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) expect(port).toBeLessThan(ephemeralLow);
    const server = await listen(ports[0], '127.0.0.1');
    server.close();
  });

  it('portFreeOn finds one port free on several loopback addresses', async () => {
    const port = await portFreeOn(['127.0.0.1', '127.0.0.2']);
    const servers = await Promise.all([listen(port, '127.0.0.1'), listen(port, '127.0.0.2')]);
    for (const s of servers) s.close();
  });
});
