/**
 * DANE (RFC 7672) in remote delivery, on loopback: Debian's unbound validates a zone signed for
 * the test (ldnsutils) and serves an unsigned one; Postfix's smtpd is the MX, with a self-signed
 * certificate (DANE-EE) on 127.0.24.2 and a chain from a test CA that this process does NOT
 * trust (DANE-TA) on 127.0.24.3; a relay on 127.0.24.4 strips STARTTLS.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDnsResolve, MxResolver } from '@mta/dns';
import {
  createTestCa,
  createTestRedis,
  haveValidatingResolver,
  havePostfixMx,
  portFreeOn,
  selfSignedCertificate,
  startPostfixMx,
  startStarttlsStripper,
  startValidatingResolver,
  type PostfixMx,
  type StarttlsStripper,
  type TestCa,
  type ValidatingResolver,
} from '@mta/testing';
import { DanePolicies, MtaStsPolicies, OutboundTlsPolicy, RedisPolicyStore } from '@mta/tls-policy';
import { RemoteDeliveryAgent } from './remote/remote-agent';
import { message, request } from './test/fixtures';

const EE = '127.0.24.2';
const TA = '127.0.24.3';
const STRIP = '127.0.24.4';
const runnable = haveValidatingResolver() && havePostfixMx();
if (!runnable && process.env['CI'] === 'true')
  throw new Error('CI: unbound, ldnsutils, Postfix and root are required');

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const spki = (pem: string): Buffer =>
  new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });

describe.runIf(runnable)('DANE (RFC 7672) with unbound and Postfix', () => {
  let ca: TestCa;
  let unbound: ValidatingResolver;
  let eeMx: PostfixMx;
  let taMx: PostfixMx;
  let stripper: StarttlsStripper;
  let port: number;
  let redisEnv: Awaited<ReturnType<typeof createTestRedis>>;
  let redis: Redis;

  const agent = (withDane = true): RemoteDeliveryAgent => {
    const servers = [{ host: unbound.host, port: unbound.port }];
    return new RemoteDeliveryAgent({
      heloName: 'out.example.org',
      resolver: new MxResolver({ servers, cache: false, timeoutMs: 2000, tries: 1 }),
      port,
      pool: false,
      tlsPolicy: new OutboundTlsPolicy({
        mtaSts: new MtaStsPolicies({
          resolve: createDnsResolve({ servers, cache: false }),
          store: new RedisPolicyStore(redis, redisEnv.prefix),
        }),
        ...(withDane ? { dane: new DanePolicies({ resolver: servers[0], timeoutMs: 2000 }) } : {}),
      }),
    });
  };
  const arrived = (mx: PostfixMx, rcpt: string): number =>
    mx.messages().filter((m) => m.recipients.includes(rcpt)).length;

  beforeAll(async () => {
    ca = createTestCa('DANE TA (not in any trust store)');
    const self = await selfSignedCertificate(['mx.good.dane.test', 'mx.bad.dane.test', 'mx.strip.dane.test']);
    const chain = ca.issue(['mx.ta.dane.test', 'mx.both.dane.test']);
    port = await portFreeOn([EE, TA, STRIP]);
    const tlsa = (host: string, rdata: string) => `_${port}._tcp.${host}. 300 IN TLSA ${rdata}`;
    const goodEe = `3 1 1 ${sha256(spki(self.cert))}`;
    const zone = ['good', 'bad', 'ta', 'strip', 'both'].flatMap((d) => [
      `${d}.dane.test. 300 IN MX 10 mx.${d}.dane.test.`,
      `mx.${d}.dane.test. 300 IN A ${d === 'ta' || d === 'both' ? TA : d === 'strip' ? STRIP : EE}`,
    ]);
    const caDer = new X509Certificate(ca.cert).raw;
    unbound = await startValidatingResolver([
      {
        name: 'dane.test',
        records: [
          ...zone,
          tlsa('mx.good.dane.test', goodEe),
          tlsa('mx.bad.dane.test', `3 1 1 ${'00'.repeat(32)}`),
          tlsa('mx.strip.dane.test', goodEe),
          tlsa('mx.ta.dane.test', `2 0 1 ${sha256(caDer)}`),
          tlsa('mx.both.dane.test', `2 0 1 ${sha256(caDer)}`),
          '_mta-sts.both.dane.test. 300 IN TXT "v=STSv1; id=1;"',
        ],
      },
      {
        name: 'plain.test',
        signed: false,
        records: [
          'plain.test. 300 IN MX 10 mx.plain.test.',
          `mx.plain.test. 300 IN A ${EE}`,
          tlsa('mx.plain.test', goodEe),
        ],
      },
    ]);
    eeMx = await startPostfixMx({ hosts: [EE], port, certChain: self.cert, key: self.key });
    taMx = await startPostfixMx({ hosts: [TA], port, certChain: chain.chain, key: chain.key });
    stripper = await startStarttlsStripper({ host: STRIP, port }, { host: EE, port });
    redisEnv = await createTestRedis();
    redis = new Redis(redisEnv.url, { maxRetriesPerRequest: 1 });
    // An enforced MTA-STS policy for both.dane.test that does not name its MX, as cached.
    await new RedisPolicyStore(redis, redisEnv.prefix).set('both.dane.test', {
      id: '1',
      mode: 'enforce',
      mx: ['mx.elsewhere.test'],
      maxAge: 86400,
      expires: new Date(Date.now() + 86_400_000).toISOString(),
    });
  }, 90_000);

  afterAll(async () => {
    await stripper?.close();
    await eeMx?.stop();
    await taMx?.stop();
    await unbound?.stop();
    redis?.disconnect();
    await redisEnv?.cleanup();
    ca?.close();
  });

  it('DANE-EE: a self-signed certificate whose key matches the TLSA record is authenticated', async () => {
    const r = (await agent().deliver(request(['a@good.dane.test'], message('dane-ee')))).results[0];
    expect(r).toMatchObject({ kind: 'delivered', tlsPolicy: 'dane', tls: { authorized: true } });
    expect(arrived(eeMx, 'a@good.dane.test')).toBe(1);
  });

  it('a TLSA mismatch defers, and nothing is sent', async () => {
    const r = (await agent().deliver(request(['b@bad.dane.test'], message('dane-bad')))).results[0];
    expect(r).toMatchObject({ kind: 'deferred', enhanced: '4.7.5', tlsPolicy: 'dane' });
    expect(r.text).toMatch(/TLS authentication failed: no TLSA record matches/);
    expect(arrived(eeMx, 'b@bad.dane.test')).toBe(0);
  });

  it('DANE-TA: a chain to a CA nobody trusts, named by the TLSA record, is authenticated', async () => {
    const r = (await agent().deliver(request(['c@ta.dane.test'], message('dane-ta')))).results[0];
    expect(r).toMatchObject({ kind: 'delivered', tlsPolicy: 'dane', tls: { authorized: true } });
    expect(arrived(taMx, 'c@ta.dane.test')).toBe(1);
  });

  it('STARTTLS stripped: deferred, never clear text', async () => {
    const r = (await agent().deliver(request(['d@strip.dane.test'], message('dane-strip')))).results[0];
    expect(r).toMatchObject({ kind: 'deferred', enhanced: '4.7.4', tlsPolicy: 'dane' });
    expect(stripper.clientData()).not.toMatch(/MAIL FROM/i);
  });

  it('DANE wins over MTA-STS: an MX the enforced policy does not name is used, authenticated by TLSA', async () => {
    const without = (await agent(false).deliver(request(['e@both.dane.test'], message('sts-only'))))
      .results[0];
    expect(without).toMatchObject({ kind: 'deferred', enhanced: '4.7.0' });
    const r = (await agent().deliver(request(['e@both.dane.test'], message('dane-both')))).results[0];
    expect(r).toMatchObject({ kind: 'delivered', tlsPolicy: 'dane' });
  });

  it('an unsigned zone: its TLSA records are not believed, delivery is opportunistic', async () => {
    const r = (await agent().deliver(request(['f@plain.test'], message('plain')))).results[0];
    expect(r).toMatchObject({ kind: 'delivered', tlsPolicy: 'opportunistic', tls: { authorized: false } });
  });
});
