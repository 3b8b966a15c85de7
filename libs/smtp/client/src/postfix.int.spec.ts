/**
 * Interoperability with a real Postfix smtpd (private instance, loopback only, see
 * test/postfix.ts): STARTTLS with TLS facts, certificate verification, BDAT, SIZE,
 * SMTPUTF8, DSN and per-recipient verdicts. Arrived content is read back with postcat.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmtpClient, type ConnectOptions } from './client';
import { expectNoLeaks, resourceCounts } from './test/harness';
import { asLf, FAST, message, mustConnect, tracer, wireFromMail } from './test/fixtures';
import { havePostfix, POSTFIX_SIZE_LIMIT, startPostfix, type Postfix } from './test/postfix';
import { requirePeer } from '@mta/testing';

const queueIdOf = (text: string | undefined): string =>
  /queued as ([0-9A-F]+)/.exec(text ?? '')?.[1] ?? 'none';

/** postcat -bh output minus Postfix's own Received header (first header, folded lines). */
function withoutReceived(content: string): string {
  const lines = content.split('\n');
  let i = 1;
  while (i < lines.length && /^[ \t]/.test(lines[i])) i++;
  return lines.slice(i).join('\n');
}

describe.skipIf(!requirePeer('postfix', havePostfix()))('against a private Postfix smtpd', () => {
  let pf: Postfix;
  beforeAll(async () => {
    pf = await startPostfix();
  });
  afterAll(async () => {
    await pf?.stop();
  });

  const opts = (extra: Partial<ConnectOptions> = {}): ConnectOptions => ({
    host: 'mx.test',
    address: '127.0.0.1',
    port: pf.port,
    heloName: 'client.example.org',
    timeouts: FAST,
    ...extra,
  });

  let baseline: ReturnType<typeof resourceCounts>;
  const leakCheck = () => expectNoLeaks(baseline);
  const start = () => (baseline = resourceCounts());

  it('uses STARTTLS opportunistically, says EHLO again, and reports the TLS facts', async () => {
    start();
    const t = tracer();
    const r = await SmtpClient.connect(opts({ tls: 'opportunistic', trace: t.fn }));
    if (!r.ok) throw r.error;
    const client = r.client;
    expect(client.tls).toMatchObject({
      protocol: expect.stringMatching(/^TLSv1\.[23]$/),
      cipher: expect.any(String),
      servername: 'mx.test',
      authorized: false,
      authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT',
      peerSubject: 'mx.test',
    });
    // RFC 3207 §4.2: EHLO again after the handshake, and post-TLS capabilities are used.
    expect(t.commands().filter((c) => c.startsWith('EHLO'))).toHaveLength(2);
    expect(client.capabilities.startTls).toBe(false);
    expect(client.capabilities.chunking).toBe(true);
    const body = message('over-tls');
    const res = await client.send({ from: 's@example.org', recipients: ['a@mx.test'], body });
    expect(res.recipients[0]).toMatchObject({ kind: 'delivered', code: 250, enhanced: '2.0.0' });
    await client.quit();
    await leakCheck();
    const content = pf.content(queueIdOf(res.message?.text));
    expect(content).toMatch(/using TLSv1\.[23] with cipher/);
    expect(withoutReceived(content)).toBe(asLf(body));
  });

  it('sends with BDAT (RFC 3030) in several chunks, from a stream', async () => {
    start();
    const t = tracer();
    const client = await mustConnect({ ...opts({ tls: 'none', trace: t.fn, bdatChunkSize: 16_384 }) });
    expect(client.capabilities.chunking).toBe(true);
    const body = message('bdat', '.a line with a leading dot and some text\r\n'.repeat(1500));
    const res = await client.send({
      from: 's@example.org',
      recipients: ['a@mx.test'],
      body: Readable.from([body.subarray(0, 1000), body.subarray(1000)]),
      size: body.length,
    });
    expect(res.recipients[0]).toMatchObject({ kind: 'delivered', stage: 'end-of-data' });
    const bdats = t.commands().filter((c) => c.startsWith('BDAT'));
    expect(bdats.length).toBe(Math.ceil(body.length / 16_384));
    expect(bdats.at(-1)).toMatch(/ LAST$/);
    expect(t.commands()).not.toContain('DATA');
    await client.quit();
    await leakCheck();
    expect(withoutReceived(pf.content(queueIdOf(res.message?.text)))).toBe(asLf(body));
  });

  it('verifies the certificate with required-verify when the CA is trusted', async () => {
    start();
    const r = await SmtpClient.connect(opts({ tls: 'required-verify', tlsSettings: { ca: pf.certPem } }));
    if (!r.ok) throw r.error;
    expect(r.client.tls).toMatchObject({ authorized: true, authorizationError: null });
    await r.client.quit();
    await leakCheck();
  });

  it.each([
    ['a self-signed certificate', 'mx.test', undefined, /self-signed certificate/],
    ['a name mismatch', 'other.test', true, /does not match|altnames/i],
  ])('defers the host on %s with required-verify', async (_name, host, trustCa, pattern) => {
    start();
    const r = await SmtpClient.connect(
      opts({ host, tls: 'required-verify', tlsSettings: trustCa ? { ca: pf.certPem } : {} }),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({
      stage: 'starttls',
      kind: 'deferred',
      source: 'local',
      enhanced: '4.7.5',
    });
    expect(r.error.text).toMatch(pattern);
    await leakCheck();
  });

  it('gives one result per recipient: 250, 450 and 550 in one transaction', async () => {
    start();
    const client = await mustConnect(opts({ tls: 'none' }));
    const res = await client.send({
      from: 's@example.org',
      recipients: ['ok@mx.test', 'defer@mx.test', 'reject@mx.test'],
      body: message('mixed'),
    });
    expect(res.recipients).toEqual([
      expect.objectContaining({
        recipient: 'ok@mx.test',
        kind: 'delivered',
        code: 250,
        stage: 'end-of-data',
      }),
      expect.objectContaining({
        recipient: 'defer@mx.test',
        kind: 'deferred',
        code: 450,
        enhanced: '4.2.0',
        stage: 'rcpt',
      }),
      expect.objectContaining({
        recipient: 'reject@mx.test',
        kind: 'failed',
        code: 550,
        enhanced: '5.1.1',
        stage: 'rcpt',
      }),
    ]);
    expect(pf.envelope(queueIdOf(res.message?.text))).toMatch(/recipient: ok@mx\.test/);
    await client.quit();
    await leakCheck();
  });

  it('resets and sends nothing when every recipient is refused', async () => {
    start();
    const t = tracer();
    const client = await mustConnect(opts({ tls: 'none', trace: t.fn }));
    const res = await client.send({
      from: 's@example.org',
      recipients: ['defer@mx.test', 'reject@mx.test'],
      body: message('none'),
    });
    expect(res.recipients.map((r) => r.kind)).toEqual(['deferred', 'failed']);
    expect(res.message).toBeNull();
    expect(t.commands()).not.toContain('DATA');
    expect(t.commands().filter((c) => c.startsWith('BDAT'))).toHaveLength(0);
    expect(t.commands().at(-1)).toBe('RSET');
    expect(client.isUsable()).toBe(true);
    await client.quit();
    await leakCheck();
  });

  it('pipelines DATA with the envelope (RFC 2920 §3.1); with every RCPT refused, Postfix refuses DATA and the session goes on', async () => {
    start();
    const t = tracer();
    const client = await mustConnect(opts({ tls: 'none', port: pf.portWithoutChunking, trace: t.fn }));
    expect(client.capabilities).toMatchObject({ pipelining: true, chunking: false });
    const none = await client.send({
      from: 's@example.org',
      recipients: ['defer@mx.test', 'reject@mx.test'],
      body: message('pipelined-none'),
    });
    // Each recipient keeps its own RCPT reply; Postfix's 554 to DATA is nobody's result.
    expect(none.recipients.map((r) => [r.kind, r.code, r.stage])).toEqual([
      ['deferred', 450, 'rcpt'],
      ['failed', 550, 'rcpt'],
    ]);
    expect(none.message).toBeNull();
    const first = wireFromMail(t);
    // DATA went before any reply was read; 554 5.5.1 "no valid recipients" (RFC 5321 §3.3):
    // no content, no dot, RSET (RFC 2920 §3.1), and the session stays usable.
    expect(first).toEqual(['MAIL', 'RCPT', 'RCPT', 'DATA', 250, 450, 550, 554, 'RSET', 250]);
    expect(client.isUsable()).toBe(true);

    const body = message('pipelined-mixed');
    const mixed = await client.send({
      from: 's@example.org',
      recipients: ['ok@mx.test', 'reject@mx.test'],
      body,
    });
    expect(mixed.recipients.map((r) => [r.kind, r.code, r.stage])).toEqual([
      ['delivered', 250, 'end-of-data'],
      ['failed', 550, 'rcpt'],
    ]);
    const second = wireFromMail(t).slice(first.length);
    expect(second).toEqual(['MAIL', 'RCPT', 'RCPT', 'DATA', 250, 250, 550, 354, 250]);
    expect(withoutReceived(pf.content(queueIdOf(mixed.message?.text)))).toBe(asLf(body));
    expect(pf.envelope(queueIdOf(mixed.message?.text))).not.toMatch(/reject@mx\.test/);
    await client.quit();
    await leakCheck();
  });

  it('refuses a message over the announced SIZE locally with 552 5.3.4, before MAIL', async () => {
    start();
    const t = tracer();
    const client = await mustConnect(opts({ tls: 'none', trace: t.fn }));
    expect(client.capabilities.size).toBe(POSTFIX_SIZE_LIMIT);
    const res = await client.send({
      from: 's@example.org',
      recipients: ['a@mx.test', 'b@mx.test'],
      body: message('big', 'x'.repeat(POSTFIX_SIZE_LIMIT) + '\r\n'),
    });
    for (const r of res.recipients)
      expect(r).toMatchObject({ kind: 'failed', code: 552, enhanced: '5.3.4', source: 'local' });
    expect(t.commands().some((c) => c.startsWith('MAIL'))).toBe(false);
    expect(client.isUsable()).toBe(true);
    await client.quit();
    await leakCheck();
  });

  it('sends an internationalised message with SMTPUTF8 (RFC 6531) and DSN parameters', async () => {
    start();
    const t = tracer();
    const client = await mustConnect(opts({ tls: 'none', trace: t.fn }));
    expect(client.capabilities.smtpUtf8).toBe(true);
    const res = await client.send({
      from: 'jörg@example.org',
      recipients: [{ address: 'zoë@mx.test', notify: ['SUCCESS', 'FAILURE'], orcpt: 'zoe@mx.test' }],
      body: message('utf8', 'Grüße\r\n'),
      dsn: { ret: 'HDRS', envid: 'env-42' },
    });
    expect(res.recipients[0].kind).toBe('delivered');
    const mail = t.commands().find((c) => c.startsWith('MAIL'));
    expect(mail).toMatch(
      /^MAIL FROM:<jörg@example.org> SIZE=\d+ BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=env-42$/,
    );
    const env = pf.envelope(queueIdOf(res.message?.text));
    expect(env).toMatch(/sender: jörg@example.org/);
    expect(env).toMatch(/dsn_orig_rcpt=rfc822;zoe@mx.test/);
    expect(env).toMatch(/envelope_id=env-42/);
    await client.quit();
    await leakCheck();
  });

  it('delivers over IPv6 loopback with STARTTLS', async () => {
    start();
    const r = await SmtpClient.connect(opts({ address: '::1', tls: 'required' }));
    if (!r.ok) throw r.error;
    expect(r.client.remoteAddress).toBe('::1');
    expect(r.client.tls?.protocol).toMatch(/^TLSv1/);
    const res = await r.client.send({
      from: 's@example.org',
      recipients: ['a@mx.test'],
      body: message('v6tls'),
    });
    expect(res.recipients[0].kind).toBe('delivered');
    await r.client.quit();
    await leakCheck();
  });
});
