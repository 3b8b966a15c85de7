/**
 * Interoperability with nodemailer's smtp-server (in-process, loopback): AUTH PLAIN and
 * LOGIN after STARTTLS, policy failures, and servers lacking extensions.
 */
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { until } from '@mta/testing';
import { SmtpClient, type ConnectOptions } from './client';
import { expectNoLeaks, resourceCounts, type ResourceCounts } from './test/harness';
import { FAST, message, tracer, wireFromMail } from './test/fixtures';
import {
  makeCert,
  PASSWORD,
  smtpReject,
  startNodemailerPeer,
  type NodemailerPeer,
  type TestCert,
} from './test/nodemailer-peer';

const cert: TestCert = makeCert();

describe('against nodemailer smtp-server', () => {
  const peers: NodemailerPeer[] = [];
  let baseline: ResourceCounts;
  beforeEach(() => {
    baseline = resourceCounts();
  });
  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => p.stop()));
  });

  async function peer(options: Parameters<typeof startNodemailerPeer>[0] = {}): Promise<NodemailerPeer> {
    const p = await startNodemailerPeer({ key: cert.key, cert: cert.cert, ...options });
    peers.push(p);
    baseline = resourceCounts(); // the listener is the peer's, not ours
    return p;
  }

  const opts = (p: NodemailerPeer, extra: Partial<ConnectOptions> = {}): ConnectOptions => ({
    host: 'mx.test',
    address: '127.0.0.1',
    port: p.port,
    heloName: 'client.example.org',
    timeouts: FAST,
    ...extra,
  });

  it.each(['PLAIN', 'LOGIN'] as const)(
    'authenticates with AUTH %s over STARTTLS and delivers',
    async (mech) => {
      const p = await peer({ authMethods: ['PLAIN', 'LOGIN'] });
      const t = tracer();
      const r = await SmtpClient.connect(
        opts(p, {
          tls: 'required',
          auth: { username: 'user', password: PASSWORD, mechanisms: [mech] },
          trace: t.fn,
        }),
      );
      if (!r.ok) throw r.error;
      expect(r.client.authMechanism).toBe(mech);
      expect(p.logins).toEqual([{ user: 'user', method: mech }]);
      const body = message(`auth-${mech}`);
      const res = await r.client.send({ from: 'user@example.org', recipients: ['a@mx.test'], body });
      expect(res.recipients[0].kind).toBe('delivered');
      await r.client.quit();
      expect(p.received[0].data.equals(body)).toBe(true);
      // the password is never in the trace, in clear or in base64
      const wire = JSON.stringify(t.events);
      expect(wire).not.toContain(PASSWORD);
      expect(wire).not.toContain(Buffer.from(PASSWORD).toString('base64'));
      expect(wire).not.toContain(Buffer.from(`\0user\0${PASSWORD}`).toString('base64'));
      await expectNoLeaks(baseline);
    },
  );

  it.each(['PLAIN', 'LOGIN'] as const)(
    'reports a 535 to AUTH %s as deferred, without the password',
    async (mech) => {
      const p = await peer({ authMethods: ['PLAIN', 'LOGIN'] });
      const t = tracer();
      const wrong = 'Wr0ng-Pa55word';
      const r = await SmtpClient.connect(
        opts(p, {
          tls: 'required',
          auth: { username: 'user', password: wrong, mechanisms: [mech] },
          trace: t.fn,
        }),
      );
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error).toMatchObject({
        stage: 'auth',
        code: 535,
        enhanced: '5.7.8',
        kind: 'deferred',
        source: 'remote',
      });
      expect(r.tls?.protocol).toMatch(/^TLSv1/);
      const everything = JSON.stringify([t.events, r.error.message, r.error.text, String(r.error.stack)]);
      expect(everything).not.toContain(wrong);
      expect(everything).not.toContain(Buffer.from(wrong).toString('base64'));
      await expectNoLeaks(baseline);
    },
  );

  it('refuses to send credentials without TLS unless explicitly allowed', async () => {
    const p = await peer({ authMethods: ['PLAIN'], allowInsecureAuth: true, hideSTARTTLS: true });
    const auth = { username: 'user', password: PASSWORD };
    const refused = await SmtpClient.connect(opts(p, { tls: 'opportunistic', auth }));
    expect(refused.ok).toBe(false);
    if (!refused.ok)
      expect(refused.error).toMatchObject({ stage: 'auth', kind: 'deferred', source: 'local' });
    expect(p.logins).toEqual([]);
    const allowed = await SmtpClient.connect(
      opts(p, { tls: 'opportunistic', auth, allowInsecureAuth: true }),
    );
    if (!allowed.ok) throw allowed.error;
    expect(allowed.client.tls).toBeNull();
    expect(p.logins).toHaveLength(1);
    await allowed.client.quit();
    await expectNoLeaks(baseline);
  });

  it('defers when TLS is required but STARTTLS is not offered', async () => {
    const p = await peer({ hideSTARTTLS: true });
    const r = await SmtpClient.connect(opts(p, { tls: 'required' }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ stage: 'starttls', kind: 'deferred', enhanced: '4.7.4' });
    // opportunistic goes ahead in plaintext
    const o = await SmtpClient.connect(opts(p, { tls: 'opportunistic' }));
    if (!o.ok) throw o.error;
    expect(o.client.tls).toBeNull();
    await o.client.quit();
    await expectNoLeaks(baseline);
  });

  it('notices an idle pooled connection that the server timed out (421), and reset() discards it', async () => {
    const p = await peer({ socketTimeout: 300 });
    const r = await SmtpClient.connect(opts(p, { tls: 'opportunistic' }));
    if (!r.ok) throw r.error;
    expect(r.client.isUsable()).toBe(true);
    // The server's idle timeout (300 ms) fires and its 421 arrives: wait for that, not for the clock.
    await until('the client to notice the 421', () => !r.client.isUsable(), 10_000, 20);
    expect(r.client.isUsable()).toBe(false);
    expect(await r.client.reset()).toBe(false);
    const res = await r.client.send({
      from: 's@example.org',
      recipients: ['a@mx.test'],
      body: message('stale'),
    });
    expect(res.recipients[0]).toMatchObject({ kind: 'deferred' });
    await r.client.quit();
    await expectNoLeaks(baseline);
  });

  it('gives per-recipient results from RCPT hooks (250 / 450 / 550)', async () => {
    const p = await peer({
      onRcptTo(addr, _s, cb) {
        if (addr.address.startsWith('later')) return cb(smtpReject(450, '4.2.1 Mailbox busy, try later'));
        if (addr.address.startsWith('nobody')) return cb(smtpReject(550, '5.1.1 No such mailbox'));
        cb();
      },
    });
    const r = await SmtpClient.connect(opts(p, { tls: 'opportunistic' }));
    if (!r.ok) throw r.error;
    const res = await r.client.send({
      from: 's@example.org',
      recipients: ['yes@mx.test', 'later@mx.test', 'nobody@mx.test'],
      body: message('mixed'),
    });
    expect(res.recipients.map((x) => [x.recipient, x.kind, x.code, x.enhanced])).toEqual([
      ['yes@mx.test', 'delivered', 250, null], // smtp-server's "250 OK: message queued" has no enhanced code
      ['later@mx.test', 'deferred', 450, '4.2.1'],
      ['nobody@mx.test', 'failed', 550, '5.1.1'],
    ]);
    expect(p.received[0].to).toEqual(['yes@mx.test']);
    await r.client.quit();
    await expectNoLeaks(baseline);
  });

  it('with every RCPT refused, reads the 503 to the pipelined DATA, sends no content, and the session goes on', async () => {
    const p = await peer({
      onRcptTo(addr, _s, cb) {
        if (addr.address.startsWith('nobody')) return cb(smtpReject(550, '5.1.1 No such mailbox'));
        cb();
      },
    });
    const t = tracer();
    const r = await SmtpClient.connect(opts(p, { tls: 'none', trace: t.fn }));
    if (!r.ok) throw r.error;
    expect(r.client.capabilities.pipelining).toBe(true);
    const res = await r.client.send({
      from: 's@example.org',
      recipients: ['nobody1@mx.test', 'nobody2@mx.test'],
      body: message('refused-all'),
    });
    expect(res.recipients.map((x) => [x.kind, x.code, x.enhanced, x.stage])).toEqual([
      ['failed', 550, '5.1.1', 'rcpt'],
      ['failed', 550, '5.1.1', 'rcpt'],
    ]);
    expect(res.message).toBeNull();
    // RFC 2920 §3.1: DATA was in the group; smtp-server answered it 503 (RFC 5321 §3.3), so
    // no content and no dot follow, only RSET.
    expect(wireFromMail(t)).toEqual(['MAIL', 'RCPT', 'RCPT', 'DATA', 250, 550, 550, 503, 'RSET', 250]);
    expect(r.client.isUsable()).toBe(true);
    const body = message('after-refused');
    const next = await r.client.send({ from: 's@example.org', recipients: ['yes@mx.test'], body });
    expect(next.recipients[0]).toMatchObject({ kind: 'delivered', code: 250 });
    expect(p.received).toHaveLength(1);
    expect(p.received[0].data.equals(body)).toBe(true);
    await r.client.quit();
    await expectNoLeaks(baseline);
  });

  it('refuses a SMTPUTF8 message locally when the peer hides SMTPUTF8, and sends it when offered', async () => {
    const without = await peer({ hideSMTPUTF8: true });
    const r1 = await SmtpClient.connect(opts(without, { tls: 'none' }));
    if (!r1.ok) throw r1.error;
    const res1 = await r1.client.send({
      from: 'ñandú@example.org',
      recipients: ['a@mx.test'],
      body: message('intl'),
    });
    expect(res1.recipients[0]).toMatchObject({
      kind: 'failed',
      code: 554,
      enhanced: '5.6.7',
      source: 'local',
    });
    expect(without.received).toHaveLength(0);
    await r1.client.quit();

    const withIt = await peer();
    const r2 = await SmtpClient.connect(opts(withIt, { tls: 'none' }));
    if (!r2.ok) throw r2.error;
    const res2 = await r2.client.send({
      from: 'ñandú@example.org',
      recipients: ['a@mx.test'],
      body: message('intl'),
    });
    expect(res2.recipients[0].kind).toBe('delivered');
    expect(withIt.received[0].from).toBe('ñandú@example.org');
    await r2.client.quit();
    await expectNoLeaks(baseline);
  });

  it('aborts (without the final dot) an 8-bit stream to a peer without 8BITMIME', async () => {
    const p = await peer({ hide8BITMIME: true });
    const r = await SmtpClient.connect(opts(p, { tls: 'none' }));
    if (!r.ok) throw r.error;
    const body = Readable.from([Buffer.from('Subject: x\r\n\r\nascii\r\n'), Buffer.from('caf\u00e9\r\n')]);
    const res = await r.client.send({ from: 's@example.org', recipients: ['a@mx.test'], body });
    expect(res.recipients[0]).toMatchObject({
      kind: 'failed',
      code: 554,
      enhanced: '5.6.3',
      source: 'local',
    });
    expect(r.client.isUsable()).toBe(false);
    await r.client.quit();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(p.received).toHaveLength(0);
    await expectNoLeaks(baseline);
  });
});
