/**
 * Interoperability with Postfix's smtp-sink(1), started per test on a free loopback port
 * with its fault-injection options; the bytes it dumps are compared with what we sent.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SmtpClient } from './client';
import type { ConnectOptions } from './client';
import { expectNoLeaks, resourceCounts } from './test/harness';
import { asLf, FAST, message, mustConnect, tracer } from './test/fixtures';
import { haveSmtpSink, startSink, type Sink } from './test/smtp-sink';
import { requirePeer } from '@mta/testing';

/** Start a sink with `options`, run `fn`, then check that the client left no handle behind. */
async function withSink(
  options: string[],
  fn: (sink: Sink) => Promise<void>,
  host = '127.0.0.1',
): Promise<void> {
  const sink = await startSink(options, host);
  try {
    const baseline = resourceCounts();
    await fn(sink);
    await expectNoLeaks(baseline);
  } finally {
    await sink.stop();
  }
}

const connectTo = (sink: Sink, extra: Partial<ConnectOptions> = {}) =>
  SmtpClient.connect({
    host: sink.host,
    port: sink.port,
    heloName: 'client.example.org',
    tls: 'none',
    timeouts: FAST,
    ...extra,
  });

const findDump = (sink: Sink, subject: string) =>
  sink.dumps().find((d) => d.content.includes(`Subject: ${subject}\n`));

describe.skipIf(!requirePeer('smtp-sink', haveSmtpSink()))('against Postfix smtp-sink', () => {
  it('delivers with PIPELINING: MAIL, all RCPTs and DATA in one group, bytes arrive intact', async () => {
    await withSink([], async (sink) => {
      const t = tracer();
      const client = await mustConnect({ port: sink.port, trace: t.fn });
      expect(client.capabilities.pipelining).toBe(true);
      const body = message('pipelined');
      const res = await client.send({
        from: 'sender@example.org',
        recipients: ['a@mx.test', 'b@mx.test'],
        body,
      });
      expect(res.recipients).toEqual([
        {
          recipient: 'a@mx.test',
          code: 250,
          enhanced: '2.0.0',
          text: 'Ok',
          kind: 'delivered',
          source: 'remote',
          stage: 'end-of-data',
        },
        {
          recipient: 'b@mx.test',
          code: 250,
          enhanced: '2.0.0',
          text: 'Ok',
          kind: 'delivered',
          source: 'remote',
          stage: 'end-of-data',
        },
      ]);
      // RFC 2920 §3.1: the four commands, DATA last, were written before the first reply was
      // read; then the replies in order, and the body only after the 354.
      const order = t.events.map((e) =>
        e.direction === 'out' ? e.line.split(/[ :]/)[0] : e.direction === 'in' ? e.reply.code : 'i',
      );
      const mailAt = order.indexOf('MAIL');
      expect(order.slice(mailAt, mailAt + 9)).toEqual([
        'MAIL',
        'RCPT',
        'RCPT',
        'DATA',
        250,
        250,
        250,
        354,
        250,
      ]);
      await client.quit();
      const dump = findDump(sink, 'pipelined');
      expect(dump?.content).toBe(asLf(body));
      expect(dump?.meta['X-Mail-Args']).toEqual(['<sender@example.org>']); // smtp-sink offers no SIZE
      expect(dump?.meta['X-Rcpt-Args']).toEqual(['<a@mx.test>', '<b@mx.test>']);
    });
  });

  it('delivers without PIPELINING (-p): one command, one reply', async () => {
    await withSink(['-p'], async (sink) => {
      const t = tracer();
      const client = await mustConnect({ port: sink.port, trace: t.fn });
      expect(client.capabilities.pipelining).toBe(false);
      const body = message('lockstep');
      const res = await client.send({
        from: 'sender@example.org',
        recipients: ['a@mx.test', 'b@mx.test'],
        body,
      });
      expect(res.recipients.map((r) => r.kind)).toEqual(['delivered', 'delivered']);
      const dirs = t.events.filter((e) => e.direction !== 'info').map((e) => e.direction);
      expect(dirs.join('')).not.toContain('outout');
      await client.quit();
      expect(findDump(sink, 'lockstep')?.content).toBe(asLf(body));
    });
  });

  it('streams a Readable body, dot-stuffing across chunk boundaries', async () => {
    await withSink([], async (sink) => {
      const client = await mustConnect({ port: sink.port });
      const body = message(
        'streamed',
        'line one\r\n.dot line\r\n' + 'x'.repeat(100_000) + '\r\n.\r\n..\r\nlast\r\n',
      );
      const parts: Buffer[] = [];
      for (let i = 0; i < body.length; i += 7) parts.push(body.subarray(i, i + 7)); // splits CRLF and dots
      const res = await client.send({
        from: 's@example.org',
        recipients: ['a@mx.test'],
        body: Readable.from(parts),
        size: body.length,
      });
      expect(res.recipients[0].kind).toBe('delivered');
      await client.quit();
      expect(findDump(sink, 'streamed')?.content).toBe(asLf(body));
    });
  });

  it('falls back to HELO when EHLO gets 5xx (-f EHLO)', async () => {
    await withSink(['-f', 'EHLO'], async (sink) => {
      const client = await mustConnect({ port: sink.port });
      expect(client.helo).toBe('HELO');
      expect(client.capabilities.pipelining).toBe(false);
      const body = message('helo');
      const res = await client.send({ from: 's@example.org', recipients: ['a@mx.test'], body });
      expect(res.recipients[0].kind).toBe('delivered');
      await client.quit();
      const dump = findDump(sink, 'helo');
      expect(dump?.meta['X-Client-Proto']).toEqual(['SMTP']);
      expect(dump?.meta['X-Mail-Args']).toEqual(['<s@example.org>']); // no SIZE without EHLO
    });
  });

  it.each([
    ['-r', 'deferred', 450, '4.3.0'],
    ['-f', 'failed', 500, '5.3.0'],
  ])('turns a refused greeting (%s CONNECT) into a typed result', async (flag, kind, code, enhanced) => {
    await withSink([flag, 'CONNECT'], async (sink) => {
      const r = await connectTo(sink);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error).toMatchObject({ stage: 'greeting', kind, code, enhanced, source: 'remote' });
    });
  });

  it.each([
    ['-r', 'MAIL', 'mail', 'deferred', 450],
    ['-f', 'MAIL', 'mail', 'failed', 500],
    ['-r', 'RCPT', 'rcpt', 'deferred', 450],
    ['-f', 'RCPT', 'rcpt', 'failed', 500],
    ['-r', 'DATA', 'data', 'deferred', 450],
    ['-f', 'DATA', 'data', 'failed', 500],
    ['-r', '.', 'end-of-data', 'deferred', 450],
    ['-f', '.', 'end-of-data', 'failed', 500],
  ])(
    'reports %s %s as %s/%s for every recipient, and the session stays usable',
    async (flag, cmd, stage, kind, code) => {
      await withSink([flag, cmd], async (sink) => {
        const t = tracer();
        const client = await mustConnect({ port: sink.port, trace: t.fn });
        const res = await client.send({
          from: 's@example.org',
          recipients: ['a@mx.test', 'b@mx.test'],
          body: message('refused'),
        });
        for (const r of res.recipients) expect(r).toMatchObject({ stage, kind, code, source: 'remote' });
        if (stage === 'mail' || stage === 'rcpt') expect(t.commands()).not.toContain('DATA');
        expect(client.isUsable()).toBe(true);
        await client.quit();
      });
    },
  );

  it.each([
    ['-q', 'DATA', 'data'],
    ['-q', '.', 'end-of-data'],
    ['-Q', 'RCPT', 'rcpt'],
    ['-q', 'RCPT', 'rcpt'],
    ['-Q', 'MAIL', 'mail'],
  ])('defers every recipient when the server drops the connection (%s %s)', async (flag, cmd, stage) => {
    await withSink([flag, cmd], async (sink) => {
      const client = await mustConnect({ port: sink.port });
      const res = await client.send({
        from: 's@example.org',
        recipients: ['a@mx.test', 'b@mx.test'],
        body: message('dropped'),
      });
      for (const r of res.recipients) {
        expect(r.kind).toBe('deferred');
        expect(r.stage).toBe(stage);
      }
      if (flag === '-Q') {
        // The server's own 421 when we read it before the close; the server closing with our
        // pipelined commands unread makes its kernel send RST, which may discard the 421.
        for (const r of res.recipients) expect(r.code).toBe(421);
      } else {
        expect(res.recipients[0]).toMatchObject({ code: 421, enhanced: '4.4.2', source: 'local' });
      }
      expect(client.isUsable()).toBe(false);
      await client.quit(); // harmless on a dead session
    });
  });

  it('reuses one connection for three messages, with RSET between them', async () => {
    await withSink([], async (sink) => {
      const t = tracer();
      const client = await mustConnect({ port: sink.port, trace: t.fn });
      const port = client.localAddress;
      for (const n of [1, 2, 3]) {
        if (n > 1) expect(await client.reset()).toBe(true);
        const res = await client.send({
          from: 's@example.org',
          recipients: [`r${n}@mx.test`],
          body: message(`reuse-${n}`),
        });
        expect(res.recipients[0].kind).toBe('delivered');
        expect(client.isUsable()).toBe(true);
      }
      expect(client.messagesSent).toBe(3);
      expect(client.localAddress).toBe(port);
      expect(t.commands().filter((c) => c === 'RSET')).toHaveLength(2);
      expect(t.commands().filter((c) => c.startsWith('EHLO'))).toHaveLength(1);
      await client.quit();
      expect(t.commands().at(-1)).toBe('QUIT');
      for (const n of [1, 2, 3])
        expect(findDump(sink, `reuse-${n}`)?.meta['X-Rcpt-Args']).toEqual([`<r${n}@mx.test>`]);
    });
  });

  it('refuses locally, without sending, a message that needs SMTPUTF8 (RFC 6531 §3.4)', async () => {
    await withSink([], async (sink) => {
      const t = tracer();
      const client = await mustConnect({ port: sink.port, trace: t.fn });
      expect(client.capabilities.smtpUtf8).toBe(false);
      const res = await client.send({
        from: 's@example.org',
        recipients: ['jörg@mx.test'],
        body: message('utf8'),
      });
      expect(res.recipients[0]).toMatchObject({
        kind: 'failed',
        code: 554,
        enhanced: '5.6.7',
        source: 'local',
      });
      expect(t.commands().some((c) => c.startsWith('MAIL'))).toBe(false);
      // the session is untouched and takes the next message
      const ok = await client.send({
        from: 's@example.org',
        recipients: ['a@mx.test'],
        body: message('after-utf8'),
      });
      expect(ok.recipients[0].kind).toBe('delivered');
      await client.quit();
    });
  });

  it('declares BODY=8BITMIME for 8-bit content, and refuses it for a peer without 8BITMIME (-8)', async () => {
    const body = message('eight', 'caf\u00e9 cr\u00e8me\r\n');
    await withSink([], async (sink) => {
      const client = await mustConnect({ port: sink.port });
      const res = await client.send({ from: 's@example.org', recipients: ['a@mx.test'], body });
      expect(res.recipients[0].kind).toBe('delivered');
      await client.quit();
      const dump = findDump(sink, 'eight');
      expect(dump?.meta['X-Mail-Args']).toEqual(['<s@example.org> BODY=8BITMIME']);
      expect(Buffer.from(dump?.content ?? '', 'latin1').equals(Buffer.from(asLf(body), 'latin1'))).toBe(true);
    });
    await withSink(['-8'], async (sink) => {
      const t = tracer();
      const client = await mustConnect({ port: sink.port, trace: t.fn });
      const res = await client.send({ from: 's@example.org', recipients: ['a@mx.test'], body });
      expect(res.recipients[0]).toMatchObject({
        kind: 'failed',
        code: 554,
        enhanced: '5.6.3',
        source: 'local',
      });
      expect(t.commands().some((c) => c.startsWith('MAIL'))).toBe(false);
      await client.quit();
    });
  });

  it('sends DSN parameters when the peer offers DSN (RFC 3461)', async () => {
    await withSink([], async (sink) => {
      const client = await mustConnect({ port: sink.port });
      expect(client.capabilities.dsn).toBe(true);
      const res = await client.send({
        from: 's@example.org',
        recipients: [
          { address: 'a@mx.test', notify: ['FAILURE', 'DELAY'], orcpt: 'A+1@mx.test' },
          'b@mx.test',
        ],
        body: message('dsn'),
        dsn: { ret: 'HDRS', envid: 'Q123=x' },
      });
      expect(res.recipients.map((r) => r.kind)).toEqual(['delivered', 'delivered']);
      await client.quit();
      const dump = findDump(sink, 'dsn');
      expect(dump?.meta['X-Mail-Args']?.[0]).toMatch(/ RET=HDRS ENVID=Q123\+3Dx$/);
      expect(dump?.meta['X-Rcpt-Args']).toEqual([
        '<a@mx.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;A+2B1@mx.test',
        '<b@mx.test>',
      ]);
    });
  });

  it('times out a slow DATA reply (-p -w 5 vs a 300 ms limit) as a temporary failure', async () => {
    // Without PIPELINING, so that DATA waits alone for its reply (the pipelined case is below).
    await withSink(['-p', '-w', '5'], async (sink) => {
      const client = await mustConnect({ port: sink.port, timeouts: { ...FAST, dataInit: 300 } });
      // The sink answers after 5 s; "timed out" below is our 300 ms limit, not its answer.
      const res = await client.send({
        from: 's@example.org',
        recipients: ['a@mx.test'],
        body: message('slow'),
      });
      expect(res.recipients[0]).toMatchObject({
        kind: 'deferred',
        source: 'local',
        stage: 'data',
        enhanced: '4.4.2',
      });
      expect(res.recipients[0].text).toMatch(/timed out/);
      expect(client.isUsable()).toBe(false);
      await client.quit();
    });
  });

  it('with PIPELINING, a slow DATA holds every reply of the group (-w 5): deferred at the first one', async () => {
    // smtp-sink, like Postfix smtpd, flushes its replies only when it would wait for input: the
    // MAIL and RCPT replies wait behind the delayed DATA, so the client gives up on MAIL's.
    await withSink(['-w', '5'], async (sink) => {
      const client = await mustConnect({ port: sink.port, timeouts: { ...FAST, mail: 300, dataInit: 300 } });
      expect(client.capabilities.pipelining).toBe(true);
      const res = await client.send({
        from: 's@example.org',
        recipients: ['a@mx.test', 'b@mx.test'],
        body: message('slow-group'),
      });
      for (const r of res.recipients)
        expect(r).toMatchObject({ kind: 'deferred', source: 'local', stage: 'mail', enhanced: '4.4.2' });
      expect(res.recipients[0].text).toMatch(/timed out after 300 ms/);
      expect(client.isUsable()).toBe(false);
      await client.quit();
    });
  });

  it('times out a peer that stops reading the body (-H 5 -T 4096: data block timeout, §4.5.3.2.5)', async () => {
    await withSink(['-H', '5', '-T', '4096'], async (sink) => {
      const client = await mustConnect({ port: sink.port, timeouts: { ...FAST, dataBlock: 300 } });
      const body = message('stalled', ('s'.repeat(998) + '\r\n').repeat(16_000)); // 16 MB
      const res = await client.send({ from: 's@example.org', recipients: ['a@mx.test'], body });
      expect(res.recipients[0]).toMatchObject({ kind: 'deferred', source: 'local', stage: 'data' });
      expect(res.recipients[0].text).toMatch(/timed out after 300 ms sending data/);
      await client.quit();
    });
  });

  it('connects over IPv6 loopback (::1)', async () => {
    await withSink(
      ['-6'],
      async (sink) => {
        const client = await mustConnect({ host: '::1', port: sink.port, family: 6 });
        expect(client.remoteAddress).toBe('::1');
        const res = await client.send({
          from: 's@example.org',
          recipients: ['a@mx.test'],
          body: message('v6'),
        });
        expect(res.recipients[0].kind).toBe('delivered');
        await client.quit();
        expect(findDump(sink, 'v6')?.meta['X-Client-Addr']).toEqual(['ipv6:::1']);
      },
      '::1',
    );
  });

  it('binds the given local source address', async () => {
    await withSink([], async (sink) => {
      const client = await mustConnect({ port: sink.port, localAddress: '127.0.0.1' });
      expect(client.localAddress).toBe('127.0.0.1');
      await client.quit();
    });
  });
});
