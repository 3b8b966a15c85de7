/**
 * Remote delivery against Postfix's smtp-sink as the MX, found through a DNS server on
 * loopback (@mta/testing's fake DNS) whose MX and A records point at 127.0.0.2-4.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MxResolver } from '@mta/dns';
import { aRecord, mxRecord, startFakeDns, type FakeDnsServer, requirePeer } from '@mta/testing';
import { RemoteDeliveryAgent, type RemoteAgentOptions } from './remote/remote-agent';
import { asLf, message, request, sha256 } from './test/fixtures';
import {
  countingRelay,
  expectNoLeaks,
  haveSmtpSink,
  portFreeOn,
  resourceCounts,
  startSink,
  type Sink,
} from './test/peers';

const MX1 = '127.0.0.2';
const MX2 = '127.0.0.3';
const DEAD = '127.0.0.4'; // nothing listens there: connection refused
const FAST = { connect: 2_000, greeting: 3_000, helo: 3_000, mail: 3_000, rcpt: 3_000, endOfData: 5_000 };

const ZONE = [
  mxRecord('one.test', 10, 'mx.one.test'),
  aRecord('mx.one.test', MX1),
  mxRecord('backup.test', 10, 'dead.backup.test'),
  mxRecord('backup.test', 20, 'mx.backup.test'),
  aRecord('dead.backup.test', DEAD),
  aRecord('mx.backup.test', MX2),
  mxRecord('two.test', 10, 'a.two.test'),
  mxRecord('two.test', 20, 'b.two.test'),
  aRecord('a.two.test', MX1),
  aRecord('b.two.test', MX2),
  mxRecord('null.test', 0, '.'),
];

describe.skipIf(!requirePeer('smtp-sink', haveSmtpSink()))('RemoteDeliveryAgent against smtp-sink', () => {
  let dns: FakeDnsServer & { servers: { host: string; port: number }[] };
  let resolver: MxResolver;
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    dns = await startFakeDns(ZONE, { faults: { 'servfail.test': 'servfail' } });
    resolver = new MxResolver({
      servers: dns.servers,
      cache: false,
      timeoutMs: 1_000,
      tries: 1,
      random: () => 0,
    });
  });
  afterAll(async () => {
    await dns.close();
  });

  /** A fresh port (shared by all MXs of the test, like DELIVERY_PORT), an agent, sinks. */
  async function setup(
    sinks: { host: string; faults?: string[] }[],
    options: Partial<RemoteAgentOptions> = {},
  ) {
    const port = await portFreeOn([MX1, MX2, DEAD]);
    const started: Sink[] = [];
    for (const s of sinks) started.push(await startSink(s.host, port, s.faults));
    const agent = new RemoteDeliveryAgent({
      heloName: 'out.example.org',
      resolver,
      port,
      timeouts: FAST,
      ...options,
    });
    const done = async () => {
      await agent.close();
      for (const s of started) await s.stop();
    };
    cleanup.push(done);
    return { port, agent, sinks: started, done };
  }
  afterAll(async () => {
    for (const done of cleanup.splice(0)) await done().catch(() => undefined);
  });

  it('delivers to the MX: the sink holds the same bytes (SHA-256 after CRLF → LF)', async () => {
    const baseline = resourceCounts();
    const { agent, sinks, done, port } = await setup([{ host: MX1 }]);
    const body = message('delivered');
    const report = await agent.deliver(request(['a@one.test', 'b@one.test'], body));
    expect(report.status).toBe('attempted');
    for (const r of report.results) {
      expect(r).toMatchObject({ kind: 'delivered', code: 250, source: 'remote' });
      expect(r.remote).toEqual({ host: 'mx.one.test', address: MX1, port });
      expect(r.tls).toBeNull();
    }
    expect(report.results.map((r) => r.recipientId)).toEqual(['r1', 'r2']);
    const dumps = sinks[0].dumps();
    expect(dumps).toHaveLength(1);
    expect(sha256(dumps[0].content)).toBe(sha256(asLf(body)));
    expect(dumps[0].meta['X-Rcpt-Args']).toHaveLength(2);
    await done();
    await expectNoLeaks(baseline);
  });

  it('sends a SMTPUTF8 message with ASCII addresses and header to an MX without SMTPUTF8 (RFC 6531 §3.4)', async () => {
    const { agent, sinks, done } = await setup([{ host: MX1 }]);
    const utf8 = { envelope: { sender: 'sender@example.org', smtpUtf8: true } };
    const ascii = message('flagged-ascii');
    const sent = await agent.deliver(request(['a@one.test'], ascii, utf8));
    expect(sent.results[0]).toMatchObject({ kind: 'delivered', code: 250, source: 'remote' });
    const dumps = sinks[0].dumps();
    expect(dumps).toHaveLength(1);
    expect(sha256(dumps[0].content)).toBe(sha256(asLf(ascii)));
    // A UTF-8 header really needs it: refused here, nothing sent.
    const refused = await agent.deliver(request(['a@one.test'], message('Grüße'), utf8));
    expect(refused.results[0]).toMatchObject({
      kind: 'failed',
      code: 554,
      enhanced: '5.6.7',
      source: 'local',
    });
    expect(sinks[0].dumps()).toHaveLength(1);
    await done();
  });

  it('reports whether the MX offered DSN, so the queue knows who answers NOTIFY=SUCCESS (RFC 3461 §5.2.2)', async () => {
    const notify = { recipients: [{ id: 'r1', address: 'a@one.test', notify: ['SUCCESS' as const] }] };
    for (const [faults, offered] of [
      [[], true],
      [['-N'], false],
    ] as const) {
      const { agent, sinks, done } = await setup([{ host: MX1, faults: [...faults] }]);
      const report = await agent.deliver(request(['a@one.test'], message(`dsn-${offered}`), notify));
      expect(report.results[0]).toMatchObject({ kind: 'delivered', nextHopDsn: offered });
      // Offered: NOTIFY went on with the recipient; not offered: it could not.
      expect(sinks[0].dumps()[0].meta['X-Rcpt-Args']).toEqual([
        offered ? '<a@one.test> NOTIFY=SUCCESS' : '<a@one.test>',
      ]);
      await done();
    }
  });

  it('defers a recipient refused with 450 at RCPT, with the remote reply', async () => {
    const { agent, sinks, done } = await setup([{ host: MX1, faults: ['-r', 'RCPT'] }]);
    const report = await agent.deliver(request(['a@one.test'], message('rcpt-450')));
    // smtp-sink's soft reject: "450 4.3.0 Error: command failed"
    expect(report.results[0]).toMatchObject({
      kind: 'deferred',
      code: 450,
      enhanced: '4.3.0',
      text: 'Error: command failed',
      source: 'remote',
      remote: { host: 'mx.one.test', address: MX1 },
    });
    expect(sinks[0].dumps()).toHaveLength(0);
    await done();
  });

  it('fails a recipient refused with 5xx at RCPT, with the remote reply', async () => {
    const { agent, done } = await setup([{ host: MX1, faults: ['-f', 'RCPT'] }]);
    const report = await agent.deliver(request(['a@one.test'], message('rcpt-550')));
    // smtp-sink's hard reject: "500 5.3.0 Error: command failed"
    expect(report.results[0]).toMatchObject({
      kind: 'failed',
      code: 500,
      enhanced: '5.3.0',
      source: 'remote',
    });
    await done();
  });

  it('moves on to the second MX when the first refuses connections', async () => {
    const { agent, sinks, done } = await setup([{ host: MX2 }]);
    const report = await agent.deliver(request(['a@backup.test'], message('backup')));
    expect(report.results[0]).toMatchObject({
      kind: 'delivered',
      remote: { host: 'mx.backup.test', address: MX2 },
    });
    expect(sinks[0].dumps()).toHaveLength(1);
    await done();
  });

  it('defers with the connection error when no MX answers', async () => {
    const { agent, done } = await setup([]);
    const report = await agent.deliver(request(['a@backup.test'], message('nobody')));
    expect(report.results[0]).toMatchObject({
      kind: 'deferred',
      code: 421,
      enhanced: '4.4.1',
      source: 'local',
    });
    expect(report.results[0].text).toMatch(/ECONNREFUSED/);
    await done();
  });

  it('moves on after a 4xx greeting and after a 5xx greeting', async () => {
    for (const flag of ['-r', '-f']) {
      const { agent, sinks, done } = await setup([{ host: MX1, faults: [flag, 'CONNECT'] }, { host: MX2 }]);
      const report = await agent.deliver(request(['a@two.test'], message(`greeting${flag}`)));
      expect(report.results[0]).toMatchObject({
        kind: 'delivered',
        remote: { host: 'b.two.test', address: MX2 },
      });
      expect(sinks[1].dumps()).toHaveLength(1);
      await done();
    }
  });

  it('fails only when every MX refuses with a 5xx greeting (RFC 5321 §3.1, §5.1)', async () => {
    const all = await setup([
      { host: MX1, faults: ['-f', 'CONNECT'] },
      { host: MX2, faults: ['-f', 'CONNECT'] },
    ]);
    const failed = await all.agent.deliver(request(['a@two.test'], message('all-5xx')));
    expect(failed.results[0]).toMatchObject({
      kind: 'failed',
      code: 500,
      enhanced: '5.3.0',
      source: 'remote',
      remote: { host: 'b.two.test' }, // the last host tried answers
    });
    await all.done();

    const some = await setup([{ host: MX1, faults: ['-f', 'CONNECT'] }]); // MX2 refuses connections
    const deferred = await some.agent.deliver(request(['a@two.test'], message('some-5xx')));
    expect(deferred.results[0]).toMatchObject({ kind: 'deferred', enhanced: '4.4.1' });
    await some.done();
  });

  it('fails every recipient of a null-MX domain with 556 5.1.10 (RFC 7505), connecting nowhere', async () => {
    const { agent, done } = await setup([]);
    const report = await agent.deliver(request(['a@null.test', 'b@null.test'], message('null-mx')));
    for (const r of report.results) {
      expect(r).toMatchObject({ kind: 'failed', code: 556, enhanced: '5.1.10', source: 'local' });
      expect(r.remote).toBeUndefined();
    }
    await done();
  });

  it('defers every recipient when DNS fails temporarily (451 4.4.3)', async () => {
    const { agent, done } = await setup([]);
    const report = await agent.deliver(request(['a@servfail.test'], message('servfail')));
    expect(report.results[0]).toMatchObject({ kind: 'deferred', code: 451, enhanced: '4.4.3' });
    await done();
  });

  it('reuses one TCP connection for two messages to the same MX (RSET in between)', async () => {
    const baseline = resourceCounts();
    const port = await portFreeOn([MX1, MX2]);
    const sink = await startSink(MX2, port);
    const relay = await countingRelay(MX1, port, { host: MX2, port }); // one.test's MX → the sink
    const agent = new RemoteDeliveryAgent({ heloName: 'out.example.org', resolver, port, timeouts: FAST });
    for (const subject of ['reuse-1', 'reuse-2']) {
      const report = await agent.deliver(request(['a@one.test'], message(subject)));
      expect(report.results[0].kind).toBe('delivered');
    }
    expect(relay.accepted).toBe(1);
    expect(sink.dumps()).toHaveLength(2);
    await agent.close(); // QUITs the pooled session
    await relay.close();
    await sink.stop();
    await expectNoLeaks(baseline);
  });

  it('sends again on a new connection when a pooled session dies before MAIL is answered', async () => {
    // RFC 5321 §4.5.3.2.7: a server may close an idle session; here it does so just as the
    // pooled session is taken again (its RSET was answered, its MAIL is not): nothing was
    // accepted, so the message goes at once over a new connection instead of being deferred.
    const port = await portFreeOn([MX1, MX2]);
    const sink = await startSink(MX2, port);
    const relay = await countingRelay(
      MX1,
      port,
      { host: MX2, port },
      { dropAtMail: { connection: 1, mail: 2 } },
    );
    const agent = new RemoteDeliveryAgent({ heloName: 'out.example.org', resolver, port, timeouts: FAST });
    for (const subject of ['dropped-1', 'dropped-2']) {
      const report = await agent.deliver(request(['a@one.test'], message(subject)));
      expect(report.results[0]).toMatchObject({ kind: 'delivered' });
    }
    expect(relay.accepted).toBe(2);
    expect(sink.dumps()).toHaveLength(2);
    await agent.close();
    await relay.close();
    await sink.stop();
  });

  it('opens a new connection once a session has carried maxMessagesPerConnection', async () => {
    const { RemoteDeliveryAgent: Agent, SmtpConnectionPool } = await import('./index');
    const port = await portFreeOn([MX1, MX2]);
    const sink = await startSink(MX2, port);
    const relay = await countingRelay(MX1, port, { host: MX2, port });
    const pool = new SmtpConnectionPool({ maxMessagesPerConnection: 1 });
    const agent = new Agent({ heloName: 'out.example.org', resolver, port, timeouts: FAST, pool });
    for (const subject of ['limit-1', 'limit-2'])
      await agent.deliver(request(['a@one.test'], message(subject)));
    expect(relay.accepted).toBe(2);
    expect(pool.size).toBe(0);
    await pool.close();
    await relay.close();
    await sink.stop();
  });

  it('defers without connecting when the worker is stopping (aborted signal)', async () => {
    const { agent, sinks, done } = await setup([{ host: MX1 }]);
    const report = await agent.deliver(
      request(['a@one.test'], message('aborted'), { signal: AbortSignal.abort() }),
    );
    expect(report.results[0]).toMatchObject({ kind: 'deferred', code: 451, source: 'local' });
    expect(report.results[0].text).toMatch(/interrupted/);
    expect(sinks[0].dumps()).toHaveLength(0);
    await done();
  });

  it('sends everything to the smart host without any MX lookup (RELAY_HOST)', async () => {
    const port = await portFreeOn([MX2]);
    const sink = await startSink(MX2, port);
    const before = dns.queries.length;
    const agent = new RemoteDeliveryAgent({
      heloName: 'out.example.org',
      relay: { host: MX2, port },
      timeouts: FAST,
    });
    const report = await agent.deliver(
      request(['x@anywhere.example', 'y@elsewhere.example'], message('relay')),
    );
    expect(report.results.map((r) => r.kind)).toEqual(['delivered', 'delivered']);
    expect(report.results[0].remote).toEqual({ host: MX2, address: MX2, port });
    expect(dns.queries.length).toBe(before);
    await agent.close();
    await sink.stop();
  });
});
