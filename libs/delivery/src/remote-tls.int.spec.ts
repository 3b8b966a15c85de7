/**
 * What smtp-sink cannot do, against nodemailer's smtp-server (in process, on 127.0.0.5):
 * STARTTLS with a self-signed certificate (TLS facts on the result), a verdict per recipient
 * (250 / 450 / 550 in one transaction), and a smart host that wants AUTH over TLS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { MxResolver } from '@mta/dns';
import { aRecord, mxRecord, selfSignedCertificate, startFakeDns, type TestCertificate } from '@mta/testing';
import { RemoteDeliveryAgent } from './remote/remote-agent';
import { asLf, message, request, sha256 } from './test/fixtures';
import { expectNoLeaks, portFreeOn, resourceCounts } from './test/peers';

const HOST = '127.0.0.5';

interface Peer {
  readonly received: { to: string[]; data: Buffer; secure: boolean }[];
  stop(): Promise<void>;
}

async function startPeer(
  port: number,
  cert: TestCertificate,
  options: Partial<SMTPServerOptions> = {},
): Promise<Peer> {
  const received: Peer['received'] = [];
  const server = new SMTPServer({
    name: 'mx.tls.test',
    key: cert.key,
    cert: cert.cert,
    authOptional: true,
    logger: false,
    closeTimeout: 200,
    onRcptTo(address, _session, cb) {
      // `r450@...` is refused with 450, `r550@...` with 550; anyone else is accepted.
      const code = /^r(\d{3})@/.exec(address.address)?.[1];
      if (code)
        return cb(Object.assign(new Error(`${code[0]}.1.1 said ${code}`), { responseCode: Number(code) }));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks),
          secure: session.secure,
        });
        cb(null);
      });
    },
    ...options,
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(port, HOST, () => resolve()));
  return { received, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('RemoteDeliveryAgent against nodemailer smtp-server', () => {
  let dns: Awaited<ReturnType<typeof startFakeDns>>;
  let resolver: MxResolver;
  let cert: TestCertificate;

  beforeAll(async () => {
    cert = await selfSignedCertificate(['mx.tls.test']);
    dns = await startFakeDns([mxRecord('tls.test', 10, 'mx.tls.test'), aRecord('mx.tls.test', HOST)]);
    resolver = new MxResolver({ servers: dns.servers, cache: false, timeoutMs: 1_000, tries: 1 });
  });
  afterAll(async () => {
    await dns.close();
  });

  it('uses STARTTLS when offered and records the TLS facts on each result', async () => {
    const baseline = resourceCounts();
    const port = await portFreeOn([HOST]);
    const peer = await startPeer(port, cert);
    const agent = new RemoteDeliveryAgent({ heloName: 'out.example.org', resolver, port });
    const body = message('starttls');
    const report = await agent.deliver(request(['a@tls.test'], body));
    const [r] = report.results;
    expect(r).toMatchObject({
      kind: 'delivered',
      code: 250,
      remote: { host: 'mx.tls.test', address: HOST, port },
    });
    expect(r.tls).toMatchObject({
      protocol: 'TLSv1.3',
      servername: 'mx.tls.test', // SNI: the MX name
      authorized: false, // opportunistic: self-signed is fine, and recorded as unverified
      peerSubject: 'mx.tls.test',
    });
    expect(r.tls?.cipher).toMatch(/^TLS_/);
    expect(peer.received).toHaveLength(1);
    expect(peer.received[0].secure).toBe(true);
    expect(sha256(asLf(peer.received[0].data))).toBe(sha256(asLf(body)));
    await agent.close();
    await peer.stop();
    await expectNoLeaks(baseline);
  });

  it('reports each recipient with its own reply: 250, 450 and 550 in one transaction', async () => {
    const port = await portFreeOn([HOST]);
    const peer = await startPeer(port, cert);
    const agent = new RemoteDeliveryAgent({ heloName: 'out.example.org', resolver, port, tls: 'none' });
    const report = await agent.deliver(
      request(['ok@tls.test', 'r450@tls.test', 'r550@tls.test'], message('partial')),
    );
    expect(report.results.map((r) => [r.recipientId, r.kind, r.code, r.source])).toEqual([
      ['r1', 'delivered', 250, 'remote'],
      ['r2', 'deferred', 450, 'remote'],
      ['r3', 'failed', 550, 'remote'],
    ]);
    expect(report.results[1].text).toMatch(/said 450/);
    expect(report.results[0].tls).toBeNull();
    expect(peer.received.map((m) => m.to)).toEqual([['ok@tls.test']]);
    await agent.close();
    await peer.stop();
  });

  it('authenticates to the smart host over TLS (RELAY_HOST with credentials)', async () => {
    const port = await portFreeOn([HOST]);
    const logins: string[] = [];
    const peer = await startPeer(port, cert, {
      authOptional: false,
      authMethods: ['PLAIN', 'LOGIN'],
      onAuth(auth, _session, cb) {
        if (auth.username === 'relay-user' && auth.password === 'relay-Pa55word') {
          logins.push(auth.username);
          return cb(null, { user: auth.username });
        }
        cb(Object.assign(new Error('5.7.8 bad credentials'), { responseCode: 535 }));
      },
    });
    const agent = new RemoteDeliveryAgent({
      heloName: 'out.example.org',
      relay: {
        host: HOST,
        port,
        tls: 'required',
        auth: { username: 'relay-user', password: 'relay-Pa55word' },
      },
    });
    const report = await agent.deliver(request(['x@far.example'], message('smart-host')));
    expect(report.results[0]).toMatchObject({ kind: 'delivered', tls: { protocol: 'TLSv1.3' } });
    expect(logins).toEqual(['relay-user']);
    await agent.close();
    await peer.stop();
  });
});
