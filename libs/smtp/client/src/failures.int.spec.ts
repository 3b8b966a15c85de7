/**
 * Network failures no server offers on demand: refused connections, a peer that never
 * speaks, a drop in the middle of the body, a body stream that fails, bad framing.
 * The peers are tiny scripted TCP servers on loopback (test/scripted-server.ts).
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SmtpClient } from './client';
import { expectNoLeaks, freePort, resourceCounts } from './test/harness';
import { FAST, message } from './test/fixtures';
import { dropsMidData, injectsAfterStartTls, silent, startScripted } from './test/scripted-server';

const connect = (port: number, timeouts = FAST) =>
  SmtpClient.connect({ host: '127.0.0.1', port, heloName: 'client.example.org', tls: 'none', timeouts });

describe('failure handling', () => {
  it('reports a refused connection as deferred (stage connect)', async () => {
    const baseline = resourceCounts();
    const port = await freePort();
    const r = await connect(port);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toMatchObject({
        stage: 'connect',
        kind: 'deferred',
        source: 'local',
        enhanced: '4.4.1',
      });
      expect(r.error.text).toMatch(/ECONNREFUSED/);
    }
    await expectNoLeaks(baseline);
  });

  it('times out a server that accepts and never speaks (initial 220 timeout)', async () => {
    const server = await startScripted(silent);
    const baseline = resourceCounts();
    // The server never speaks: the failure can only be our 300 ms greeting limit (its text).
    const r = await connect(server.port, { ...FAST, greeting: 300 });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toMatchObject({ stage: 'greeting', kind: 'deferred', source: 'local' });
      expect(r.error.text).toMatch(/timed out after 300 ms/);
    }
    await expectNoLeaks(baseline);
    await server.stop();
  });

  it('defers every recipient when the connection drops in the middle of DATA', async () => {
    const server = await startScripted(dropsMidData(10_000));
    const baseline = resourceCounts();
    const r = await connect(server.port);
    if (!r.ok) throw r.error;
    const body = message('mid-data', ('z'.repeat(998) + '\r\n').repeat(8000)); // 8 MB: more than the socket buffers
    const res = await r.client.send({ from: 's@example.org', recipients: ['a@mx.test', 'b@mx.test'], body });
    for (const x of res.recipients) {
      expect(x).toMatchObject({ kind: 'deferred', code: 421, enhanced: '4.4.2', source: 'local' });
      // Where the client notices depends on kernel buffering: while writing, or waiting for the reply.
      expect(['data', 'end-of-data']).toContain(x.stage);
    }
    expect(r.client.isUsable()).toBe(false);
    await r.client.quit();
    await expectNoLeaks(baseline);
    expect(server.received[0]).toContain('DATA\r\n');
    expect(server.received[0]).not.toContain('\r\n.\r\n');
    await server.stop();
  });

  it('defers (4.3.0) and drops the connection when the body stream fails mid-message', async () => {
    const server = await startScripted(dropsMidData(1_000_000));
    const baseline = resourceCounts();
    const r = await connect(server.port);
    if (!r.ok) throw r.error;
    const body = new Readable({
      read() {
        this.push(Buffer.from('Subject: x\r\n\r\nfirst part\r\n'));
        this.destroy(new Error('disk read error'));
      },
    });
    const res = await r.client.send({ from: 's@example.org', recipients: ['a@mx.test'], body });
    expect(res.recipients[0]).toMatchObject({
      kind: 'deferred',
      code: 451,
      enhanced: '4.3.0',
      source: 'local',
    });
    expect(res.recipients[0].text).toMatch(/disk read error/);
    expect(r.client.isUsable()).toBe(false);
    await r.client.quit();
    await expectNoLeaks(baseline);
    expect(server.received[0]).not.toContain('\r\n.\r\n');
    await server.stop();
  });

  it('refuses a Buffer with a bare LF before sending anything (SMTP smuggling)', async () => {
    const server = await startScripted(dropsMidData(1_000_000));
    const baseline = resourceCounts();
    const r = await connect(server.port);
    if (!r.ok) throw r.error;
    const res = await r.client.send({
      from: 's@example.org',
      recipients: ['a@mx.test'],
      body: Buffer.from('Subject: x\r\n\r\nsmuggle\n.\r\nMAIL FROM:<evil@x>\r\n'),
    });
    expect(res.recipients[0]).toMatchObject({
      kind: 'failed',
      code: 554,
      enhanced: '5.6.0',
      source: 'local',
    });
    expect(server.received[0]).not.toContain('MAIL FROM');
    expect(r.client.isUsable()).toBe(true);
    await r.client.quit();
    await expectNoLeaks(baseline);
    await server.stop();
  });

  it.each([
    ['DATA', '250 8BITMIME'],
    ['BDAT', '250 CHUNKING'],
  ])('never sends a NUL by %s, not even from a stream (RFC 5322 §2.1)', async (_transfer, ext) => {
    const server = await startScripted(dropsMidData(1_000_000, ext));
    const baseline = resourceCounts();
    const r = await connect(server.port);
    if (!r.ok) throw r.error;
    const res = await r.client.send({
      from: 's@example.org',
      recipients: ['a@mx.test'],
      body: Readable.from([Buffer.from('Subject: x\r\n\r\nhello\r\n\x00.\r\nMAIL FROM:<evil@x>\r\n')]),
    });
    expect(res.recipients[0]).toMatchObject({
      kind: 'failed',
      code: 554,
      enhanced: '5.6.0',
      source: 'local',
    });
    expect(server.received[0]).not.toContain('\x00');
    expect(server.received[0]).not.toContain('MAIL FROM:<evil');
    await r.client.close();
    await expectNoLeaks(baseline);
    await server.stop();
  });

  it('aborts STARTTLS when plaintext follows the 220 (STARTTLS injection, CVE-2011-0411 class)', async () => {
    const server = await startScripted(injectsAfterStartTls);
    const baseline = resourceCounts();
    const r = await SmtpClient.connect({
      host: '127.0.0.1',
      port: server.port,
      heloName: 'c.example',
      tls: 'opportunistic',
      timeouts: FAST,
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ stage: 'starttls', kind: 'deferred', enhanced: '4.7.0' });
    await expectNoLeaks(baseline);
    await server.stop();
  });

  it('the leak check itself notices a client that was never closed', async () => {
    const server = await startScripted(dropsMidData(1_000_000));
    const baseline = resourceCounts();
    const r = await connect(server.port);
    if (!r.ok) throw r.error;
    await expect(expectNoLeaks(baseline, 200)).rejects.toThrow(/TCPSocketWrap/);
    await r.client.close();
    await expectNoLeaks(baseline);
    await server.stop();
  });

  it('refuses caller errors loudly: no recipients, CRLF in an address', async () => {
    const server = await startScripted(dropsMidData(1_000_000));
    const r = await connect(server.port);
    if (!r.ok) throw r.error;
    await expect(r.client.send({ from: 's@x', recipients: [], body: Buffer.from('') })).rejects.toThrow(
      TypeError,
    );
    await expect(
      r.client.send({ from: 's@x', recipients: ['a@b>\r\nDATA'], body: Buffer.from('') }),
    ).rejects.toThrow(TypeError);
    await r.client.quit();
    await server.stop();
  });
});
