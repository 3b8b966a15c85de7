/**
 * MTA-STS sending (RFC 8461) end to end on loopback: the fake DNS server publishes the MX
 * hosts, `_mta-sts` TXT records and the policy host's address; an HTTPS server on
 * 127.0.20.1:443 serves the policies with certificates from a test CA; Postfix's smtpd is the
 * receiving MX with a certificate from the same CA (valid for mx.good.test only), and a
 * STARTTLS-stripping relay on 127.0.20.2 plays the attacker. The test CA is trusted the way an
 * operator would with NODE_EXTRA_CA_CERTS (here `tls.setDefaultCACertificates`, since this
 * process is already running): validation stays on, with one more trust anchor.
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
  startStarttlsStripper,
  txtRecord,
  until,
  type MtaStsServer,
  type PostfixMx,
  type StarttlsStripper,
  type TestCa,
} from '@mta/testing';
import {
  MtaStsPolicies,
  OutboundTlsPolicy,
  RedisPolicyStore,
  RedisTlsRptStore,
  utcDay,
} from '@mta/tls-policy';
import { RemoteDeliveryAgent } from './remote/remote-agent';
import { message, request } from './test/fixtures';

const MX = '127.0.0.1';
const ATTACKER = '127.0.20.2';
const POLICY_HOST = '127.0.20.1';
const ci = process.env['CI'] === 'true';
const runnable = havePostfixMx();
if (!runnable && ci) throw new Error('CI: Postfix (and root) are required for the MTA-STS tests');

/** Domains: each with an MX, and (all but plain.test) an MTA-STS policy. */
const ZONE = (policyHost: string) => [
  ...['good', 'bad', 'strip', 'testing', 'plain', 'untrusted', 'notlisted'].flatMap((d) => [
    mxRecord(`${d}.test`, 10, `mx.${d}.test`),
    aRecord(`mx.${d}.test`, d === 'strip' ? ATTACKER : MX),
  ]),
  ...['good', 'bad', 'strip', 'testing', 'untrusted', 'notlisted'].flatMap((d) => [
    txtRecord(`_mta-sts.${d}.test`, 'v=STSv1; id=20261207a;'),
    aRecord(`mta-sts.${d}.test`, policyHost),
  ]),
];

describe.runIf(runnable)('MTA-STS (RFC 8461) with Postfix as the receiving MX', () => {
  let ca: TestCa;
  let otherCa: TestCa;
  let dns: Awaited<ReturnType<typeof startFakeDns>>;
  let https: MtaStsServer;
  let postfix: PostfixMx;
  let stripper: StarttlsStripper;
  let port: number;
  let redisEnv: Awaited<ReturnType<typeof createTestRedis>>;
  let redis: Redis;
  let defaultCas: string[];
  let tlsrpt: RedisTlsRptStore;

  const policies = (): MtaStsPolicies =>
    new MtaStsPolicies({
      resolve: createDnsResolve({ servers: dns.servers, timeoutMs: 1000, tries: 1, cache: false }),
      store: new RedisPolicyStore(redis, redisEnv.prefix),
      fetchTimeoutMs: 5000,
    });
  const agent = (mtaSts = policies()): RemoteDeliveryAgent =>
    new RemoteDeliveryAgent({
      heloName: 'out.example.org',
      resolver: new MxResolver({ servers: dns.servers, cache: false, timeoutMs: 1000, tries: 1 }),
      port,
      pool: false,
      tlsPolicy: new OutboundTlsPolicy({ mtaSts, recorder: tlsrpt }),
    });
  const arrivedFor = (rcpt: string): number =>
    postfix.messages().filter((m) => m.recipients.includes(rcpt)).length;

  beforeAll(async () => {
    ca = createTestCa();
    otherCa = createTestCa('Someone Else CA');
    defaultCas = tls.getCACertificates('default');
    tls.setDefaultCACertificates([...defaultCas, ca.cert]);
    dns = await startFakeDns(ZONE(POLICY_HOST));
    https = await startMtaStsServer(POLICY_HOST);
    const serve = (domain: string, mode: 'enforce' | 'testing', mx: string[], issuer = ca): void => {
      const leaf = issuer.issue([`mta-sts.${domain}`]);
      https.hosts.set(`mta-sts.${domain}`, {
        chain: leaf.chain,
        key: leaf.key,
        policy: mtaStsPolicy(mode, mx),
      });
    };
    serve('good.test', 'enforce', ['mx.good.test']);
    serve('bad.test', 'enforce', ['mx.bad.test']);
    serve('strip.test', 'enforce', ['*.strip.test']);
    serve('testing.test', 'testing', ['mx.testing.test']);
    serve('untrusted.test', 'enforce', ['mx.untrusted.test'], otherCa);
    serve('notlisted.test', 'enforce', ['mx.elsewhere.test']);
    port = await portFreeOn([MX, ATTACKER]);
    const leaf = ca.issue(['mx.good.test', 'mx.strip.test']);
    postfix = await startPostfixMx({ port, certChain: leaf.chain, key: leaf.key });
    stripper = await startStarttlsStripper({ host: ATTACKER, port }, { host: MX, port });
    redisEnv = await createTestRedis();
    redis = new Redis(redisEnv.url, { maxRetriesPerRequest: 1 });
    tlsrpt = new RedisTlsRptStore(redis, redisEnv.prefix);
  }, 60_000);

  afterAll(async () => {
    tls.setDefaultCACertificates(defaultCas);
    await stripper?.close();
    await postfix?.stop();
    await https?.close();
    await dns?.close();
    redis?.disconnect();
    await redisEnv?.cleanup();
    ca?.close();
    otherCa?.close();
  });

  it('enforce, matching MX, certificate valid for it: delivered over verified TLS', async () => {
    const a = agent();
    const report = await a.deliver(request(['alice@good.test'], message('sts-good')));
    const [r] = report.results;
    expect(r).toMatchObject({ kind: 'delivered', tlsPolicy: 'mta-sts', tls: { authorized: true } });
    expect(arrivedFor('alice@good.test')).toBe(1);
    await a.close();
  });

  it('enforce, certificate for another name: deferred, nothing sent in clear', async () => {
    const a = agent();
    const report = await a.deliver(request(['bob@bad.test'], message('sts-bad')));
    const [r] = report.results;
    expect(r).toMatchObject({ kind: 'deferred', enhanced: '4.7.5', tlsPolicy: 'mta-sts' });
    expect(r.text).toMatch(/mx\.bad\.test/);
    expect(arrivedFor('bob@bad.test')).toBe(0);
    await a.close();
  });

  it('enforce, MX not named by the policy: deferred without connecting', async () => {
    const a = agent();
    const before = postfix.log().split('connect from').length;
    const report = await a.deliver(request(['carol@notlisted.test'], message('sts-notlisted')));
    expect(report.results[0]).toMatchObject({ kind: 'deferred', enhanced: '4.7.0' });
    expect(report.results[0].text).toMatch(/not in the MTA-STS policy/);
    expect(postfix.log().split('connect from').length).toBe(before);
    await a.close();
  });

  it('STARTTLS stripped on the path: deferred under enforce, delivered without a policy', async () => {
    const a = agent();
    const sts = await a.deliver(request(['dave@strip.test'], message('sts-strip')));
    expect(sts.results[0]).toMatchObject({ kind: 'deferred', enhanced: '4.7.4', tlsPolicy: 'mta-sts' });
    expect(stripper.connections()).toBeGreaterThan(0);
    expect(stripper.clientData()).not.toMatch(/MAIL FROM/i);
    expect(arrivedFor('dave@strip.test')).toBe(0);
    // Same attacker, a domain without a policy (its MX pointed at the relay): clear text.
    const plainDns = await startFakeDns([
      mxRecord('plain.test', 10, 'mx.plain.test'),
      aRecord('mx.plain.test', ATTACKER),
    ]);
    const plain = new RemoteDeliveryAgent({
      heloName: 'out.example.org',
      resolver: new MxResolver({ servers: plainDns.servers, cache: false }),
      port,
      pool: false,
      tlsPolicy: new OutboundTlsPolicy({ mtaSts: policies() }),
    });
    const r = await plain.deliver(request(['erin@plain.test'], message('plain-strip')));
    expect(r.results[0]).toMatchObject({ kind: 'delivered', tls: null, tlsPolicy: 'opportunistic' });
    expect(stripper.clientData()).toMatch(/MAIL FROM/i);
    await plain.close();
    await plainDns.close();
    await a.close();
  });

  it('testing mode: delivered even where enforce would refuse', async () => {
    const a = agent();
    const report = await a.deliver(request(['frank@testing.test'], message('sts-testing')));
    expect(report.results[0]).toMatchObject({
      kind: 'delivered',
      tlsPolicy: 'mta-sts-testing',
      tls: { authorized: false },
    });
    expect(arrivedFor('frank@testing.test')).toBe(1);
    await a.close();
  });

  it('a policy host whose certificate does not validate: no policy, delivered opportunistically', async () => {
    const p = policies();
    const lookup = await p.lookup('untrusted.test');
    expect(lookup).toMatchObject({ policy: null, source: 'failed', fetchError: 'sts-webpki-invalid' });
    const report = await agent(p).deliver(request(['gina@untrusted.test'], message('sts-untrusted')));
    expect(report.results[0]).toMatchObject({ kind: 'delivered', tlsPolicy: 'opportunistic' });
  });

  it('the cache is shared through Redis, survives a restart, and is refreshed when the id changes', async () => {
    await agent().deliver(request(['h@good.test'], message('cache-1')));
    const fetched = https.fetches('mta-sts.good.test');
    // A "restarted worker": new objects, same Redis. The policy host is down: the cache answers.
    const host = https.hosts.get('mta-sts.good.test');
    if (!host) throw new Error('no policy host');
    host.policy = 503;
    const again = await policies().lookup('good.test');
    expect(again).toMatchObject({ source: 'cached', policy: { mode: 'enforce', mx: ['mx.good.test'] } });
    expect(https.fetches('mta-sts.good.test')).toBe(fetched);
    const ttl = await redis.pttl(`${redisEnv.prefix}:mta-sts:good.test`);
    expect(ttl).toBeGreaterThan(86_000_000);
    expect(ttl).toBeLessThanOrEqual(86_400_000);
    // A new id in DNS: fetched again, and the new policy (testing) replaces the old one.
    host.policy = mtaStsPolicy('testing', ['mx.good.test'], 3600);
    await dns.close();
    dns = await startFakeDns(
      ZONE(POLICY_HOST).map((r) =>
        r.type === 'TXT' && r.name === '_mta-sts.good.test' ? txtRecord(r.name, 'v=STSv1; id=20261207b;') : r,
      ),
    );
    const changed = await policies().lookup('good.test');
    expect(changed).toMatchObject({
      source: 'fetched',
      policy: { id: '20261207b', mode: 'testing', maxAge: 3600 },
    });
    expect(https.fetches('mta-sts.good.test')).toBe(fetched + 1);
  });

  it('counts every session under a policy for TLS-RPT (RFC 8460): successes and failures by type', async () => {
    const day = utcDay(new Date());
    const failuresOf = async (domain: string) =>
      (await tlsrpt.results(day, domain)).flatMap((p) => p.failures.map((f) => f['result-type']));
    await until('the results of six policy domains', async () => (await tlsrpt.domains(day)).length >= 6);
    const good = await tlsrpt.results(day, 'good.test');
    expect(good[0]).toMatchObject({
      policy: { 'policy-type': 'sts', 'policy-domain': 'good.test', 'mx-host': ['mx.good.test'] },
    });
    expect(good[0].policy['policy-string']).toContain('mode: enforce');
    expect(good[0].successes).toBeGreaterThanOrEqual(1);
    expect(await failuresOf('bad.test')).toContain('certificate-host-mismatch');
    expect((await tlsrpt.results(day, 'bad.test'))[0].failures[0]).toMatchObject({
      'receiving-mx-hostname': 'mx.bad.test',
      'receiving-ip': '127.0.0.1',
    });
    expect(await failuresOf('notlisted.test')).toEqual(['validation-failure']);
    expect(await failuresOf('strip.test')).toEqual(['starttls-not-supported']);
    expect(await failuresOf('testing.test')).toEqual(['certificate-host-mismatch']);
    expect(await failuresOf('untrusted.test')).toEqual(['sts-webpki-invalid']);
  });
});
