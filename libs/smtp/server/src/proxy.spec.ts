/** PROXY protocol v1/v2 on a listener that trusts it; ignored (not trusted) elsewhere. */
import { afterEach, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '@mta/testing';
import { startHarness, type Harness } from './harness.testutil';
import { proxyV1Header, proxyV2Header } from './proxy-protocol';
import { RawClient } from './raw-client.testutil';
import type { SessionInfo } from './handler';
import type { ListenerOptions } from './options';

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

const addr = {
  sourceAddress: '203.0.113.9',
  sourcePort: 40001,
  destinationAddress: '198.51.100.25',
  destinationPort: 25,
};

async function seenBy(listener: Partial<ListenerOptions>, header: Buffer) {
  const seen: SessionInfo[] = [];
  h = await startHarness({ maxConnectionsPerIp: 1 }, [listener], { onConnect: (s) => void seen.push(s) });
  const c = await RawClient.connect(h.port);
  c.write(header);
  return { c, seen };
}

describe('PROXY protocol', () => {
  it.each([
    ['v1', proxyV1Header(addr)],
    ['v2', proxyV2Header(addr)],
  ])('%s: the session sees the client address from the header', async (_v, header) => {
    const { c, seen } = await seenBy({ proxyProtocol: true }, header);
    expect((await c.reply()).code).toBe(220);
    expect(seen[0].remoteAddress).toBe('203.0.113.9');
    expect(seen[0].remotePort).toBe(40001);
    expect(seen[0].localPort).toBe(25);
    expect(seen[0].proxiedBy?.address).toBe('127.0.0.1');
    expect((await c.cmd('EHLO c')).code).toBe(250);
    c.destroy();
  });

  it('v2 IPv6 and per-IP limits use the real client address', async () => {
    h = await startHarness({ maxConnectionsPerIp: 1 }, [{ proxyProtocol: true }]);
    const v6 = { ...addr, sourceAddress: '2001:db8::9', destinationAddress: '2001:db8::1' };
    const a = await RawClient.connect(h.port);
    a.write(proxyV2Header(v6));
    expect((await a.reply()).code).toBe(220);
    const b = await RawClient.connect(h.port); // same LB address, other client: allowed
    b.write(proxyV2Header(addr));
    expect((await b.reply()).code).toBe(220);
    const c = await RawClient.connect(h.port); // same client again: over its limit
    c.write(proxyV2Header(v6));
    expect((await c.reply()).code).toBe(421);
    [a, b, c].forEach((x) => x.destroy());
  });

  it('counts IPv6 clients per /64: another address of the same /64 shares the limit', async () => {
    h = await startHarness({ maxConnectionsPerIp: 1 }, [{ proxyProtocol: true }]);
    const from = (sourceAddress: string) => ({ ...addr, sourceAddress, destinationAddress: '2001:db8::1' });
    const a = await RawClient.connect(h.port);
    a.write(proxyV2Header(from('2001:db8:5:6::a')));
    expect((await a.reply()).code).toBe(220);
    const b = await RawClient.connect(h.port); // same /64, other address: over the limit
    b.write(proxyV2Header(from('2001:db8:5:6:ffff::b')));
    expect((await b.reply()).code).toBe(421);
    const c = await RawClient.connect(h.port); // the next /64: a client of its own
    c.write(proxyV2Header(from('2001:db8:5:7::a')));
    expect((await c.reply()).code).toBe(220);
    [a, b, c].forEach((x) => x.destroy());
  });

  it.each([
    ['garbage', Buffer.from('EHLO not-a-proxy\r\n')],
    ['bad v1', Buffer.from('PROXY TCP4 1.2.3.4 nope 1 2\r\n')],
    ['bad v2', Buffer.concat([proxyV2Header(addr).subarray(0, 12), Buffer.from([0x31, 0x11, 0, 0])])],
  ])('closes without a word on a malformed header (%s)', async (_n, header) => {
    const { c, seen } = await seenBy({ proxyProtocol: true }, header);
    await c.closed;
    expect(c.received).toBe('');
    expect(seen).toHaveLength(0);
  });

  it('a listener without the option never trusts a PROXY line: it is an early talk', async () => {
    const { c, seen } = await seenBy({}, proxyV1Header(addr));
    const r = await c.reply();
    // The greeting may go out before the line arrives; the line then is an unknown command.
    if (r.code === 220) expect((await c.reply()).code).toBe(500);
    else expect(r.code).toBe(554);
    expect(seen[0].remoteAddress).toBe('127.0.0.1');
    c.destroy();
  });

  it('works in front of implicit TLS, with the ClientHello in the same packet', async () => {
    const cert = await selfSignedCertificate(['localhost']);
    h = await startHarness({ tls: { key: cert.key, cert: cert.cert } }, [
      { proxyProtocol: true, implicitTls: true },
    ]);
    const net = await import('node:net');
    const tls = await import('node:tls');
    // A duplex that sends the PROXY header right before the TLS bytes.
    const raw = net.connect({ port: h.port, host: '127.0.0.1' });
    await new Promise((r) => raw.once('connect', r));
    raw.cork();
    raw.write(proxyV2Header(addr));
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false, servername: 'localhost' });
    process.nextTick(() => raw.uncork());
    const got = await new Promise<string>((resolve, reject) => {
      secure.once('data', (d) => resolve(d.toString()));
      secure.once('error', reject);
    });
    expect(got).toMatch(/^220 /);
    secure.destroy();
  });
});
