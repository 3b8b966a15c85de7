import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';

function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    socket.once('data', (data) => {
      resolve(String(data));
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

describe('startTcpProxy', () => {
  let echo: net.Server;
  let proxy: TcpProxy;

  beforeAll(async () => {
    echo = net.createServer((s) => s.pipe(s));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    proxy = await startTcpProxy((echo.address() as net.AddressInfo).port);
  });
  afterAll(async () => {
    await proxy.close();
    await new Promise((resolve) => echo.close(resolve));
  });

  it('passes bytes both ways, refuses while stopped, and comes back on the same port', async () => {
    expect(await roundTrip(proxy.port, 'ping')).toBe('ping');
    const port = proxy.port;
    await proxy.stop();
    await expect(roundTrip(port, 'ping')).rejects.toThrow(/ECONNREFUSED/);
    await proxy.start();
    expect(proxy.port).toBe(port);
    expect(await roundTrip(port, 'again')).toBe('again');
  });

  it('rewrites a URL to go through it', () => {
    expect(proxy.via('postgresql://postgres@db.example:5432/mta?x=1')).toBe(
      `postgresql://postgres@127.0.0.1:${proxy.port}/mta?x=1`,
    );
  });
});
