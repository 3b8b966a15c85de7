import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SmtpError } from '@mta/smtp-protocol';
import { until } from '@mta/testing';
import { startHarness, type Harness } from './harness.testutil';
import { RawClient } from './raw-client.testutil';

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

async function greeted(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  expect((await c.reply()).code).toBe(220);
  return c;
}

describe('SMTP session over a socket', () => {
  it('greets, advertises the extensions and takes a message', async () => {
    h = await startHarness({ maxMessageSize: 1000 });
    const c = await greeted(h.port);
    const ehlo = await c.cmd('EHLO client.test');
    expect(ehlo.code).toBe(250);
    expect(ehlo.lines.map((l) => l.slice(4))).toEqual([
      'mx.test greets you',
      'PIPELINING',
      'SIZE 1000',
      '8BITMIME',
      'SMTPUTF8',
      'ENHANCEDSTATUSCODES',
      'DSN',
      'CHUNKING',
    ]);
    expect((await c.cmd('MAIL FROM:<a@example.org>')).text).toBe('250 2.1.0 Sender OK');
    expect((await c.cmd('RCPT TO:<b@example.net>')).text).toBe('250 2.1.5 Recipient OK');
    expect((await c.cmd('DATA')).code).toBe(354);
    expect((await c.cmd('Subject: hi\r\n\r\n..dot\r\nbody\r\n.')).text).toBe('250 2.0.0 OK: queued as Q1');
    expect(h.messages[0].body.toString()).toBe('Subject: hi\r\n\r\n.dot\r\nbody\r\n');
    expect(h.messages[0].envelope.recipients[0].address.raw).toBe('b@example.net');
    expect((await c.cmd('QUIT')).code).toBe(221);
    await c.closed;
  });

  it('closes after QUIT without waiting for the client to close', async () => {
    // Other closes linger for the client's close; here for ten minutes, far past this test's
    // deadline: the connection must be gone long before, because QUIT does not linger.
    h = await startHarness({ lingerMs: 600_000 });
    // A client that keeps its side open: the server must not linger for it after QUIT.
    const socket = net.connect({ port: h.port, host: '127.0.0.1', allowHalfOpen: true });
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    const ended = new Promise<void>((resolve) => socket.once('end', resolve));
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.write('QUIT\r\n');
    await ended;
    expect(received).toMatch(/\r\n221 2\.0\.0 mx\.test closing connection\r\n$/);
    const deadline = Date.now() + 20_000;
    while (h.server.connectionCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(h.server.connectionCount).toBe(0);
    socket.destroy();
  });

  it('renders a queue id as given, and refuses one with control characters as a local error', async () => {
    const ids = ['Q-1', 'bad\r\n250 forged'];
    h = await startHarness({ extensions: { enhancedStatusCodes: false } }, [{}], {
      onData: async (_s, _e, body) => {
        body.resume();
        await new Promise((r) => body.once('end', r));
        return ids.shift();
      },
    });
    const c = await greeted(h.port);
    await c.cmd('EHLO client.test');
    const send = async () => {
      await c.cmd('MAIL FROM:<a@example.org>');
      await c.cmd('RCPT TO:<b@example.net>');
      await c.cmd('DATA');
      return c.cmd('x\r\n.');
    };
    expect((await send()).text).toBe('250 OK: queued as Q-1');
    expect((await send()).code).toBe(451);
    expect(h.errors[0]).toBeInstanceOf(RangeError);
  });

  it('answers NOOP, RSET, VRFY, HELP and unknown commands', async () => {
    h = await startHarness();
    const c = await greeted(h.port);
    expect((await c.cmd('NOOP')).text).toBe('250 2.0.0 OK');
    expect((await c.cmd('HELO client.test')).text).toBe('250 mx.test');
    expect((await c.cmd('RSET')).text).toBe('250 2.0.0 OK');
    expect((await c.cmd('VRFY postmaster')).code).toBe(252);
    expect((await c.cmd('HELP')).code).toBe(214);
    expect((await c.cmd('FOO')).text).toBe('500 5.5.1 Command unrecognized');
    expect((await c.cmd('EXPN list')).code).toBe(502);
    expect((await c.cmd('DATA')).code).toBe(503);
    c.destroy();
  });

  it('takes BDAT chunks (RFC 3030)', async () => {
    h = await startHarness();
    const c = await greeted(h.port);
    await c.cmd('EHLO c');
    c.write('MAIL FROM:<a@x.org>\r\nRCPT TO:<b@y.org>\r\nBDAT 5\r\nhe\r\n.BDAT 3 LAST\r\nxyz');
    const replies = [await c.reply(), await c.reply(), await c.reply(), await c.reply()];
    expect(replies.map((r) => r.code)).toEqual([250, 250, 250, 250]);
    expect(replies[3].text).toBe('250 2.0.0 OK: queued as Q1');
    expect(h.messages[0].body.toString('latin1')).toBe('he\r\n.xyz');
    expect(h.messages[0].envelope.transfer).toBe('bdat');
    c.destroy();
  });

  it('passes handler SmtpErrors through and hides other errors behind 451 4.3.0', async () => {
    h = await startHarness({}, [{}], {
      onRcptTo: (_s, rcpt) => {
        if (rcpt.to.local === 'nobody') throw new SmtpError(550, '5.1.1', 'No such user');
        if (rcpt.to.local === 'crash') throw new Error('database password is hunter2');
        if (rcpt.to.local === 'later') return Promise.resolve(new SmtpError(450, '4.2.0', 'Try later'));
        return undefined;
      },
    });
    const c = await greeted(h.port);
    await c.cmd('EHLO c');
    await c.cmd('MAIL FROM:<>');
    expect((await c.cmd('RCPT TO:<nobody@x.org>')).text).toBe('550 5.1.1 No such user');
    const crash = await c.cmd('RCPT TO:<crash@x.org>');
    expect(crash.text).toBe('451 4.3.0 Local error in processing, try again later');
    expect(h.errors).toHaveLength(1);
    expect((await c.cmd('RCPT TO:<later@x.org>')).text).toBe('450 4.2.0 Try later');
    expect((await c.cmd('DATA')).code).toBe(503); // no recipient was accepted
    expect((await c.cmd('RCPT TO:<ok@x.org>')).code).toBe(250);
    c.destroy();
  });
});

describe('handler answers', () => {
  it('onConnect can refuse the client (554 then close)', async () => {
    h = await startHarness({}, [{}], { onConnect: () => new SmtpError(554, '5.7.1', 'Go away') });
    const c = await RawClient.connect(h.port);
    expect((await c.reply()).text).toBe('554 5.7.1 Go away');
    await c.closed;
  });

  it('an invalid body gets the decoder reply even if the handler says OK', async () => {
    h = await startHarness({ maxMessageSize: 10, bareNewline: 'reject' }, [{}], {
      onData: async (_s, _e, body) => {
        body.on('error', () => undefined);
        body.resume();
        return 'NEVER';
      },
    });
    const c = await greeted(h.port);
    await c.cmd('EHLO c');
    await c.cmd('MAIL FROM:<a@x.org>');
    await c.cmd('RCPT TO:<b@y.org>');
    await c.cmd('DATA');
    expect((await c.cmd('0123456789abc\r\n.')).code).toBe(552);
    await c.cmd('MAIL FROM:<a@x.org>');
    await c.cmd('RCPT TO:<b@y.org>');
    await c.cmd('DATA');
    expect((await c.cmd('bare\nlf\r\n.')).code).toBe(550);
    c.destroy();
  });

  it('a handler that refuses before reading the body: the body is still read, then its reply', async () => {
    h = await startHarness({}, [{}], {
      onData: async () => {
        throw new SmtpError(554, '5.7.1', 'Spam');
      },
    });
    const c = await greeted(h.port);
    await c.cmd('EHLO c');
    await c.cmd('MAIL FROM:<a@x.org>');
    await c.cmd('RCPT TO:<b@y.org>');
    await c.cmd('DATA');
    c.write('x\r\n'.repeat(50_000));
    expect((await c.cmd('.')).text).toBe('554 5.7.1 Spam');
    expect((await c.cmd('NOOP')).code).toBe(250);
    c.destroy();
  });

  it('ESMTP parameters after HELO are refused (555)', async () => {
    h = await startHarness();
    const c = await greeted(h.port);
    await c.cmd('HELO c');
    expect((await c.cmd('MAIL FROM:<a@x.org> SIZE=10')).code).toBe(555);
    expect((await c.cmd('MAIL FROM:<a@x.org>')).code).toBe(250);
    c.destroy();
  });

  it('listens on ::1 too', async () => {
    h = await startHarness({}, [{ host: '::1' }]);
    const c = await RawClient.connect(h.port, { host: '::1' });
    expect((await c.reply()).code).toBe(220);
    await c.cmd('EHLO c');
    await c.cmd('MAIL FROM:<a@x.org>');
    await c.cmd('RCPT TO:<b@y.org>');
    await c.cmd('DATA');
    await c.cmd('hi\r\n.');
    expect(h.messages[0].session.remoteAddress).toBe('::1');
    c.destroy();
  });

  it('without ENHANCEDSTATUSCODES the replies carry no enhanced code', async () => {
    h = await startHarness({ extensions: { enhancedStatusCodes: false, chunking: false, dsn: false } });
    const c = await greeted(h.port);
    const ehlo = (await c.cmd('EHLO c')).lines.map((l) => l.slice(4));
    expect(ehlo).not.toContain('ENHANCEDSTATUSCODES');
    expect(ehlo).not.toContain('CHUNKING');
    expect((await c.cmd('MAIL FROM:<a@x.org>')).text).toBe('250 Sender OK');
    // The announced octet is still read and dropped: never executed as a command.
    expect((await c.cmd('BDAT 6 LAST\r\nQUIT')).code).toBe(502);
    expect((await c.cmd('NOOP')).text).toBe('250 OK');
    c.destroy();
  });
});

describe('edge cases', () => {
  it('a handler answer that cannot be a reply (CR LF in a queue id) becomes 451 4.3.0', async () => {
    h = await startHarness({}, [{}], {
      onData: async (_s, _e, body) => {
        body.resume();
        return 'id\r\n250 injected';
      },
    });
    const c = await greeted(h.port);
    await c.cmd('EHLO c');
    await c.cmd('MAIL FROM:<a@x.org>');
    await c.cmd('RCPT TO:<b@y.org>');
    await c.cmd('DATA');
    expect((await c.cmd('x\r\n.')).text).toBe('451 4.3.0 Local error in processing, try again later');
    expect((await c.cmd('NOOP')).code).toBe(250);
    expect(c.unread).toBe('');
    c.destroy();
  });

  it('RSET between BDAT chunks voids the body: the handler stream fails, nothing is queued', async () => {
    h = await startHarness();
    const c = await greeted(h.port);
    await c.cmd('EHLO c');
    await c.cmd('MAIL FROM:<a@x.org>');
    await c.cmd('RCPT TO:<b@y.org>');
    c.write('BDAT 3\r\nabc');
    expect((await c.reply()).text).toBe('250 2.0.0 3 octets received');
    expect((await c.cmd('RSET')).code).toBe(250);
    c.write('BDAT 3 LAST\r\ndef');
    expect((await c.reply()).code).toBe(503);
    await until('the handler to hear of the reset', () => (h?.failures.length ?? 0) > 0);
    expect(h.messages).toHaveLength(0);
    expect(h.failures).toEqual(['Transaction reset by the client']);
    c.destroy();
  });

  it('refuses a BDAT it cannot frame and closes (no resync on message content)', async () => {
    h = await startHarness();
    const c = await greeted(h.port);
    await c.cmd('EHLO c');
    c.write('BDAT lots\r\nRCPT TO:<x@y.org>\r\n');
    expect((await c.reply()).code).toBe(421);
    await c.closed;
  });
});

describe('hookTimeout', () => {
  it('a hook that never answers gets 451 4.3.0 after hookTimeout; the session goes on', async () => {
    h = await startHarness({ hookTimeout: 150 }, [{}], {
      onRcptTo: (_s, r) => (r.to.local === 'hang' ? new Promise<undefined>(() => undefined) : undefined),
    });
    const c = await greeted(h.port);
    await c.cmd('EHLO c');
    await c.cmd('MAIL FROM:<a@x.org>');
    const t0 = Date.now();
    expect((await c.cmd('RCPT TO:<hang@y.org>')).text).toBe(
      '451 4.3.0 Local error in processing, try again later',
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect((await c.cmd('RCPT TO:<ok@y.org>')).code).toBe(250);
    expect(h.errors).toHaveLength(1);
    c.destroy();
  });
});
