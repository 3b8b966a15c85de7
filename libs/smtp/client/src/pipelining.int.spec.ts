/**
 * DATA at the end of a PIPELINING group (RFC 2920 §3.1), against a scripted server for the
 * replies no real peer here gives on demand: a 354 to DATA after every RCPT (or MAIL) was
 * refused, which RFC 2920 §3.1 answers with "a single dot", and a 421 to the grouped DATA.
 * The real-peer side (smtp-sink, Postfix, smtp-server, Dovecot) is in the other specs.
 */
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SmtpClient } from './client';
import { expectNoLeaks, resourceCounts } from './test/harness';
import { FAST, message, tracer } from './test/fixtures';
import { readCommands, startScripted, type Script, type ScriptedServer } from './test/scripted-server';

interface Replies {
  readonly lmtp?: boolean;
  readonly mail?: string;
  /** RCPT reply for addresses starting with `nobody` (others: 250); after a refused MAIL: 503. */
  readonly refused?: string;
  readonly data?: string;
  readonly dot?: string;
}

/** A pipelining server that answers each line as it comes; `contents` gets each message body. */
function pipeliningServer(o: Replies, contents: string[]): Script {
  return (socket: net.Socket, rec) => {
    socket.write('220 scripted ESMTP\r\n');
    let mailOk = false;
    const reply = (line: string): void => void socket.write(line + '\r\n');
    readCommands(socket, rec, {
      data: (content) => {
        contents.push(content);
        reply(o.dot ?? '250 2.0.0 queued');
      },
      line: (line) => {
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'LHLO') reply('250-scripted\r\n250-PIPELINING\r\n250 8BITMIME');
        else if (verb === 'MAIL') {
          const r = o.mail ?? '250 2.1.0 ok';
          mailOk = r.startsWith('2');
          reply(r);
        } else if (verb === 'RCPT') {
          if (!mailOk) reply('503 5.5.1 need MAIL');
          else reply(line.includes('<nobody') ? (o.refused ?? '550 5.1.1 no such user') : '250 2.1.5 ok');
        } else if (verb === 'DATA') {
          const r = o.data ?? '354 go ahead';
          reply(r);
          if (r.startsWith('421')) socket.end();
          if (r.startsWith('354')) return 'data';
        } else if (verb === 'RSET') {
          mailOk = false;
          reply('250 2.0.0 ok');
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else reply('250 ok');
      },
    });
  };
}

describe('DATA pipelined with the envelope (RFC 2920 §3.1), scripted replies', () => {
  let server: ScriptedServer | null = null;
  afterEach(async () => {
    await server?.stop();
    server = null;
  });

  async function connect(o: Replies, contents: string[], t = tracer()) {
    server = await startScripted(pipeliningServer(o, contents));
    const r = await SmtpClient.connect({
      host: '127.0.0.1',
      port: server.port,
      heloName: 'client.example.org',
      tls: 'none',
      protocol: o.lmtp ? 'lmtp' : 'smtp',
      timeouts: FAST,
      trace: t.fn,
    });
    if (!r.ok) throw r.error;
    expect(r.client.capabilities.pipelining).toBe(true);
    return r.client;
  }

  it('answers a 354 after every RCPT was refused with just the dot, and delivers nobody', async () => {
    const baseline = resourceCounts();
    const contents: string[] = [];
    const t = tracer();
    const client = await connect({ dot: '250 2.0.0 queued as EMPTY' }, contents, t);
    const res = await client.send({
      from: 's@example.org',
      recipients: ['nobody1@mx.test', 'nobody2@mx.test'],
      body: message('never-sent'),
    });
    // The 250 to the dot is not anyone's delivery: each recipient keeps its RCPT reply.
    expect(res.recipients.map((x) => [x.kind, x.code, x.stage])).toEqual([
      ['failed', 550, 'rcpt'],
      ['failed', 550, 'rcpt'],
    ]);
    expect(res.message).toBeNull();
    expect(contents).toEqual(['']); // an empty message: no header, no body
    expect(server?.received[0]).not.toContain('never-sent');
    expect(t.commands().slice(-5)).toEqual([
      'RCPT TO:<nobody1@mx.test>',
      'RCPT TO:<nobody2@mx.test>',
      'DATA',
      '.',
      'RSET',
    ]);
    expect(client.isUsable()).toBe(true);

    // The session is in step: the next message goes through whole.
    const body = message('next');
    const next = await client.send({
      from: 's@example.org',
      recipients: ['a@mx.test', 'nobody@mx.test'],
      body,
    });
    expect(next.recipients.map((x) => [x.kind, x.stage])).toEqual([
      ['delivered', 'end-of-data'],
      ['failed', 'rcpt'],
    ]);
    expect(contents[1]).toBe(body.toString('latin1').replace(/^\./gm, '..'));
    await client.quit();
    await expectNoLeaks(baseline);
  });

  it('answers a 354 after a refused MAIL with just the dot; the MAIL reply answers for everyone', async () => {
    const contents: string[] = [];
    const client = await connect({ mail: '550 5.7.1 sender refused' }, contents);
    const res = await client.send({
      from: 's@example.org',
      recipients: ['a@mx.test', 'b@mx.test'],
      body: message('never-sent'),
    });
    for (const x of res.recipients)
      expect(x).toMatchObject({ kind: 'failed', code: 550, enhanced: '5.7.1', stage: 'mail' });
    expect(res.message).toMatchObject({ code: 550, stage: 'mail' });
    expect(contents).toEqual(['']);
    expect(client.isUsable()).toBe(true);
    await client.quit();
  });

  it('LMTP: drops the session on a 354 after every RCPT was refused (RFC 2033 §4.2 requires 503)', async () => {
    const contents: string[] = [];
    const t = tracer();
    const client = await connect({ lmtp: true }, contents, t);
    const res = await client.send({
      from: 's@example.org',
      recipients: ['nobody1@lmtp.test', 'nobody2@lmtp.test'],
      body: message('never-sent'),
    });
    // After a dot the server would owe "one reply per accepted recipient", which cannot be
    // trusted from it any more: nothing is sent, and the recipients keep their RCPT replies.
    expect(res.recipients.map((x) => [x.kind, x.code, x.stage])).toEqual([
      ['failed', 550, 'rcpt'],
      ['failed', 550, 'rcpt'],
    ]);
    expect(res.message).toBeNull();
    expect(t.commands().at(-1)).toBe('DATA');
    expect(client.isUsable()).toBe(false);
    await client.quit();
    expect(contents).toEqual([]);
  });

  it('takes a 421 to the grouped DATA as the DATA reply, as without PIPELINING', async () => {
    const client = await connect({ data: '421 4.3.2 shutting down' }, []);
    const res = await client.send({
      from: 's@example.org',
      recipients: ['a@mx.test', 'nobody@mx.test'],
      body: message('closing'),
    });
    expect(res.recipients.map((x) => [x.kind, x.code, x.source, x.stage])).toEqual([
      ['deferred', 421, 'remote', 'data'],
      ['failed', 550, 'remote', 'rcpt'],
    ]);
    expect(client.isUsable()).toBe(false);
    await client.quit();
  });

  it('gives a refused DATA to the accepted recipients only, and resets', async () => {
    const t = tracer();
    const client = await connect({ data: '451 4.3.0 try later' }, [], t);
    const res = await client.send({
      from: 's@example.org',
      recipients: ['a@mx.test', 'nobody@mx.test'],
      body: message('refused-data'),
    });
    expect(res.recipients.map((x) => [x.kind, x.code, x.stage])).toEqual([
      ['deferred', 451, 'data'],
      ['failed', 550, 'rcpt'],
    ]);
    expect(t.commands().slice(-2)).toEqual(['DATA', 'RSET']);
    expect(client.isUsable()).toBe(true);
    await client.quit();
  });
});
