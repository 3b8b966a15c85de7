/**
 * LMTP mode (RFC 2033): LHLO instead of EHLO, and one reply per accepted recipient after the
 * final dot. The peer is a scripted LMTP server on loopback, and a private Dovecot for the
 * pipelined DATA (RFC 2920 §3.1); @mta/delivery's LMTP agent specs also run against Dovecot.
 */
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecotLmtp, startDovecot, type Dovecot, requirePeer } from '@mta/testing';
import { SmtpClient } from './client';
import { expectNoLeaks, resourceCounts } from './test/harness';
import { FAST, message, tracer, wireFromMail } from './test/fixtures';
import { readCommands, startScripted, type Script } from './test/scripted-server';

interface LmtpScript {
  /** LHLO reply lines (default: a pipelining server with CHUNKING, to show DATA is used anyway). */
  readonly lhlo?: string;
  /** RCPT reply by address (default 250). */
  readonly rcpt?: Record<string, string>;
  /** Replies after the final dot, in order; the script drops the connection when they run out. */
  readonly final: readonly string[];
}

function lmtpServer(o: LmtpScript): Script {
  return (socket: net.Socket, rec) => {
    socket.write('220 lmtp.test LMTP ready\r\n');
    readCommands(socket, rec, {
      data: () => {
        if (o.final.length === 0) socket.destroy();
        else socket.write(o.final.map((l) => l + '\r\n').join(''));
      },
      line: (line) => {
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'LHLO')
          socket.write(o.lhlo ?? '250-lmtp.test\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 8BITMIME\r\n');
        else if (verb === 'EHLO' || verb === 'HELO') socket.write('500 5.5.1 this is LMTP\r\n');
        else if (verb === 'RCPT') {
          const address = /<([^>]*)>/.exec(line)?.[1] ?? '';
          socket.write((o.rcpt?.[address] ?? '250 2.1.5 OK') + '\r\n');
        } else if (verb === 'DATA') {
          socket.write('354 go ahead\r\n');
          return 'data';
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 2.0.0 OK\r\n');
      },
    });
  };
}

const connect = (port: number) =>
  SmtpClient.connect({
    host: '127.0.0.1',
    port,
    heloName: 'client.example.org',
    tls: 'none',
    protocol: 'lmtp',
    timeouts: FAST,
  });

describe('LMTP mode (RFC 2033)', () => {
  it('says LHLO, sends DATA, and maps each reply after the dot to its accepted recipient', async () => {
    const server = await startScripted(
      lmtpServer({
        rcpt: { 'b@lmtp.test': "550 5.1.1 <b@lmtp.test> User doesn't exist" },
        final: ['250 2.0.0 <a@lmtp.test> Saved', '452 4.2.2 <c@lmtp.test> Quota exceeded'],
      }),
    );
    const baseline = resourceCounts();
    const r = await connect(server.port);
    if (!r.ok) throw r.error;
    expect(r.client.helo).toBe('LHLO');
    const res = await r.client.send({
      from: 's@example.org',
      recipients: ['a@lmtp.test', 'b@lmtp.test', 'c@lmtp.test'],
      body: message('lmtp'),
    });
    expect(res.recipients.map((x) => [x.recipient, x.kind, x.code, x.enhanced, x.stage])).toEqual([
      ['a@lmtp.test', 'delivered', 250, '2.0.0', 'end-of-data'],
      ['b@lmtp.test', 'failed', 550, '5.1.1', 'rcpt'],
      ['c@lmtp.test', 'deferred', 452, '4.2.2', 'end-of-data'],
    ]);
    expect(res.recipients[2].text).toMatch(/Quota exceeded/);
    expect(r.client.isUsable()).toBe(true);
    await r.client.quit();
    expect(server.received[0]).toMatch(/^LHLO client\.example\.org\r\n/);
    expect(server.received[0]).toContain('\r\nDATA\r\n');
    expect(server.received[0]).not.toMatch(/BDAT|EHLO|HELO/);
    await expectNoLeaks(baseline);
    await server.stop();
  });

  it('defers the recipients whose reply never came when the connection drops after the dot', async () => {
    const server = await startScripted(lmtpServer({ final: [] }));
    const r = await connect(server.port);
    if (!r.ok) throw r.error;
    const res = await r.client.send({
      from: 's@example.org',
      recipients: ['a@lmtp.test', 'b@lmtp.test'],
      body: message('lmtp-drop'),
    });
    for (const x of res.recipients) expect(x).toMatchObject({ kind: 'deferred', source: 'local' });
    await r.client.close();
    await server.stop();
  });

  it('settles the replies read before a drop and defers the rest', async () => {
    const script: Script = (socket, rec) => {
      lmtpServer({ final: ['250 2.0.0 first saved'] })(socket, rec);
      socket.on('data', () => {
        if (rec.data.includes('\r\n.\r\n')) setTimeout(() => socket.destroy(), 50);
      });
    };
    const server = await startScripted(script);
    const r = await connect(server.port);
    if (!r.ok) throw r.error;
    const res = await r.client.send({
      from: 's@example.org',
      recipients: ['a@lmtp.test', 'b@lmtp.test'],
      body: message('lmtp-half'),
    });
    expect(res.recipients[0]).toMatchObject({ kind: 'delivered', code: 250 });
    expect(res.recipients[1]).toMatchObject({ kind: 'deferred', source: 'local', enhanced: '4.4.2' });
    await r.client.close();
    await server.stop();
  });

  it('does not fall back to HELO when LHLO is refused', async () => {
    const server = await startScripted(lmtpServer({ lhlo: '500 5.5.1 unknown command\r\n', final: [] }));
    const r = await connect(server.port);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ stage: 'helo', code: 500, kind: 'failed' });
    expect(server.received[0]).not.toMatch(/HELO|EHLO/);
    await server.stop();
  });
});

describe.skipIf(!requirePeer('dovecot-lmtpd', haveDovecotLmtp()))(
  'LMTP against Dovecot, DATA pipelined with the envelope',
  () => {
    let dovecot: Dovecot;
    beforeAll(async () => {
      dovecot = await startDovecot([{ address: 'alice@lmtp.test' }, { address: 'bob@lmtp.test' }]);
    });
    afterAll(async () => {
      await dovecot?.stop();
    });

    it('sends MAIL, RCPTs and DATA in one group; all refused: Dovecot refuses DATA, the session goes on', async () => {
      const baseline = resourceCounts();
      const t = tracer();
      const r = await SmtpClient.connect({ ...lmtpOptions(dovecot.port), trace: t.fn });
      if (!r.ok) throw r.error;
      expect(r.client.capabilities.pipelining).toBe(true);
      const none = await r.client.send({
        from: 's@example.org',
        recipients: ['nobody1@lmtp.test', 'nobody2@lmtp.test'],
        body: message('lmtp-nobody'),
      });
      expect(none.recipients.map((x) => [x.kind, x.code, x.enhanced, x.stage])).toEqual([
        ['failed', 550, '5.1.1', 'rcpt'],
        ['failed', 550, '5.1.1', 'rcpt'],
      ]);
      expect(none.message).toBeNull();
      // RFC 2033 §4.2: DATA with no accepted recipient fails with 503; no content, no dot.
      expect(wireFromMail(t)).toEqual(['MAIL', 'RCPT', 'RCPT', 'DATA', 250, 550, 550, 503, 'RSET', 250]);
      expect(r.client.isUsable()).toBe(true);

      const res = await r.client.send({
        from: 's@example.org',
        recipients: ['alice@lmtp.test', 'nobody@lmtp.test', 'bob@lmtp.test'],
        body: message('lmtp-pipelined'),
      });
      expect(res.recipients.map((x) => [x.recipient, x.kind, x.code, x.stage])).toEqual([
        ['alice@lmtp.test', 'delivered', 250, 'end-of-data'],
        ['nobody@lmtp.test', 'failed', 550, 'rcpt'],
        ['bob@lmtp.test', 'delivered', 250, 'end-of-data'],
      ]);
      expect(res.recipients[0].text).toMatch(/<alice@lmtp\.test>/);
      expect(res.recipients[2].text).toMatch(/<bob@lmtp\.test>/);
      // The second transaction: DATA in the group again, then one reply per accepted recipient.
      expect(wireFromMail(t).slice(10)).toEqual([
        'MAIL',
        'RCPT',
        'RCPT',
        'RCPT',
        'DATA',
        250,
        250,
        550,
        250,
        354,
        250,
        250,
      ]);
      expect(r.client.isUsable()).toBe(true);
      await r.client.quit();
      await expectNoLeaks(baseline);
    });
  },
);

function lmtpOptions(port: number) {
  return {
    host: '127.0.0.1',
    port,
    heloName: 'client.example.org',
    tls: 'none' as const,
    protocol: 'lmtp' as const,
    timeouts: FAST,
  };
}
