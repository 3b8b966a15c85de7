/**
 * REQUIRETLS (RFC 8689) in remote delivery, on loopback: MTA-STS policies from an HTTPS server
 * on 127.0.21.1:443 (certificates from a test CA this process trusts), a receiving server that
 * offers REQUIRETLS (`startRequireTlsPeer`) and Postfix's smtpd, which does not.
 */
import tls from 'node:tls';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDnsResolve, MxResolver } from '@mta/dns';
import {
  aRecord,
  createTestCa,
  createTestRedis,
  havePostfixMx,
  mtaStsPolicy,
  mxRecord,
  portFreeOn,
  startFakeDns,
  startMtaStsServer,
  startPostfixMx,
  startRequireTlsPeer,
  txtRecord,
  type MtaStsServer,
  type PostfixMx,
  type RequireTlsPeer,
  type TestCa,
} from '@mta/testing';
import { MtaStsPolicies, OutboundTlsPolicy, RedisPolicyStore } from '@mta/tls-policy';
import { RemoteDeliveryAgent } from './remote/remote-agent';
import { message, request } from './test/fixtures';

const POLICY_HOST = '127.0.21.1';
const PEER = '127.0.21.3';
const POSTFIX = '127.0.21.4';
const runnable = havePostfixMx();
if (!runnable && process.env['CI'] === 'true') throw new Error('CI: Postfix (and root) are required');

const zone = [
  ...['sts', 'testing', 'mismatch', 'postfix', 'none'].flatMap((d) => [
    mxRecord(`${d}.req.test`, 10, `mx.${d}.req.test`),
    aRecord(`mx.${d}.req.test`, d === 'postfix' ? POSTFIX : PEER),
  ]),
  ...['sts', 'testing', 'mismatch', 'postfix'].flatMap((d) => [
    txtRecord(`_mta-sts.${d}.req.test`, 'v=STSv1; id=1;'),
    aRecord(`mta-sts.${d}.req.test`, POLICY_HOST),
  ]),
];

describe.runIf(runnable)('REQUIRETLS (RFC 8689) in remote delivery', () => {
  let ca: TestCa;
  let defaultCas: string[];
  let dns: Awaited<ReturnType<typeof startFakeDns>>;
  let https: MtaStsServer;
  let peer: RequireTlsPeer;
  let postfix: PostfixMx;
  let port: number;
  let redisEnv: Awaited<ReturnType<typeof createTestRedis>>;
  let redis: Redis;

  const agent = (relay = false): RemoteDeliveryAgent =>
    new RemoteDeliveryAgent({
      heloName: 'out.example.org',
      resolver: new MxResolver({ servers: dns.servers, cache: false, timeoutMs: 1000, tries: 1 }),
      port,
      pool: false,
      ...(relay ? { relay: { host: PEER, port } } : {}),
      tlsPolicy: new OutboundTlsPolicy({
        mtaSts: new MtaStsPolicies({
          resolve: createDnsResolve({ servers: dns.servers, timeoutMs: 1000, tries: 1, cache: false }),
          store: new RedisPolicyStore(redis, redisEnv.prefix),
        }),
      }),
    });
  const requireTls = (to: string, subject: string) =>
    request([to], message(subject), { envelope: { sender: 'sender@example.org', requireTls: true } });

  beforeAll(async () => {
    ca = createTestCa();
    defaultCas = tls.getCACertificates('default');
    tls.setDefaultCACertificates([...defaultCas, ca.cert]);
    dns = await startFakeDns(zone);
    https = await startMtaStsServer(POLICY_HOST);
    const serve = (d: string, mode: 'enforce' | 'testing'): void => {
      const leaf = ca.issue([`mta-sts.${d}.req.test`]);
      https.hosts.set(`mta-sts.${d}.req.test`, {
        chain: leaf.chain,
        key: leaf.key,
        policy: mtaStsPolicy(mode, [`mx.${d}.req.test`]),
      });
    };
    serve('sts', 'enforce');
    serve('testing', 'testing');
    serve('mismatch', 'testing');
    serve('postfix', 'enforce');
    port = await portFreeOn([PEER, POSTFIX]);
    peer = await startRequireTlsPeer(
      { host: PEER, port },
      ca.issue(['mx.sts.req.test', 'mx.testing.req.test']),
    );
    const pf = ca.issue(['mx.postfix.req.test']);
    postfix = await startPostfixMx({ hosts: [POSTFIX], port, certChain: pf.chain, key: pf.key });
    redisEnv = await createTestRedis();
    redis = new Redis(redisEnv.url, { maxRetriesPerRequest: 1 });
  }, 60_000);

  afterAll(async () => {
    tls.setDefaultCACertificates(defaultCas);
    await postfix?.stop();
    await peer?.close();
    await https?.close();
    await dns?.close();
    redis?.disconnect();
    await redisEnv?.cleanup();
    ca?.close();
  });

  it('an enforced MTA-STS policy and a next hop that offers REQUIRETLS: delivered, the flag goes on', async () => {
    const report = await agent().deliver(requireTls('a@sts.req.test', 'req-sts'));
    expect(report.results[0]).toMatchObject({
      kind: 'delivered',
      tlsPolicy: 'mta-sts',
      tls: { authorized: true },
    });
    const tx = peer.received.find((t) => t.recipients.includes('<a@sts.req.test>'));
    expect(tx).toMatchObject({ tls: true });
    expect(tx?.mailFrom).toMatch(/^<sender@example\.org>.* REQUIRETLS/);
  });

  it('a testing policy counts as enforce: a valid MX is used, a certificate mismatch defers', async () => {
    const ok = await agent().deliver(requireTls('b@testing.req.test', 'req-testing'));
    expect(ok.results[0]).toMatchObject({ kind: 'delivered', tlsPolicy: 'mta-sts' });
    const bad = await agent().deliver(requireTls('c@mismatch.req.test', 'req-mismatch'));
    expect(bad.results[0]).toMatchObject({ kind: 'deferred', enhanced: '4.7.5' });
    expect(peer.received.some((t) => t.recipients.includes('<c@mismatch.req.test>'))).toBe(false);
  });

  it('no MTA-STS (or DANE) policy: bounced with 5.7.30, nothing connected', async () => {
    const before = peer.received.length;
    const report = await agent().deliver(requireTls('d@none.req.test', 'req-none'));
    expect(report.results[0]).toMatchObject({ kind: 'failed', code: 550, enhanced: '5.7.30' });
    expect(peer.received.length).toBe(before);
    // Without REQUIRETLS the same domain gets its mail (opportunistic TLS).
    const plain = await agent().deliver(request(['d@none.req.test'], message('plain-none')));
    expect(plain.results[0]).toMatchObject({ kind: 'delivered', tlsPolicy: 'opportunistic' });
  });

  it('a validated next hop without REQUIRETLS (Postfix): bounced with 5.7.30 before MAIL', async () => {
    const report = await agent().deliver(requireTls('e@postfix.req.test', 'req-postfix'));
    expect(report.results[0]).toMatchObject({
      kind: 'failed',
      enhanced: '5.7.30',
      tls: { authorized: true },
    });
    expect(postfix.messages()).toEqual([]);
    expect(postfix.log()).not.toMatch(/from=<sender@example.org>/);
  });

  it('through a smart host (authenticated by neither MTA-STS nor DANE): bounced with 5.7.30', async () => {
    const report = await agent(true).deliver(requireTls('f@sts.req.test', 'req-relay'));
    expect(report.results[0]).toMatchObject({ kind: 'failed', enhanced: '5.7.30' });
    expect(report.results[0].text).toMatch(/smart host/);
  });
});
