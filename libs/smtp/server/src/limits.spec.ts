/** Every limit at exactly its value and one past it, over a real socket. */
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.testutil';
import { until } from '@mta/testing';
import { RawClient, sleep } from './raw-client.testutil';

let h: Harness | null = null;
const clients: RawClient[] = [];
afterEach(async () => {
  clients.splice(0).forEach((c) => c.destroy());
  await h?.close();
  h = null;
});

async function greeted(port: number, ehlo = true): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  expect((await c.reply()).code).toBe(220);
  if (ehlo) expect((await c.cmd('EHLO client.test')).code).toBe(250);
  return c;
}

async function inTransaction(port: number): Promise<RawClient> {
  const c = await greeted(port);
  expect((await c.cmd('MAIL FROM:<a@x.org>')).code).toBe(250);
  expect((await c.cmd('RCPT TO:<b@y.org>')).code).toBe(250);
  return c;
}

describe('command line length (RFC 5321 §4.5.3.1.4)', () => {
  it('takes a line of exactly the limit and refuses one octet longer with 500 5.5.2, staying in sync', async () => {
    h = await startHarness({ maxCommandLineLength: 512 });
    const c = await greeted(h.port);
    const exact = 'NOOP ' + 'x'.repeat(512 - 5 - 2);
    expect((await c.cmd(exact)).code).toBe(250);
    expect((await c.cmd(exact + 'x')).text).toBe('500 5.5.2 Line too long');
    expect((await c.cmd('NOOP')).code).toBe(250);
  });

  it('does not buffer an endless line: one reply when it finally ends', async () => {
    h = await startHarness({ maxCommandLineLength: 512 });
    const c = await greeted(h.port);
    for (let i = 0; i < 50; i++) c.write('y'.repeat(64 * 1024));
    c.write('\r\nNOOP\r\n');
    expect((await c.reply()).text).toBe('500 5.5.2 Line too long');
    expect((await c.reply()).code).toBe(250);
  });
});

describe('message size (RFC 1870)', () => {
  const limit = 100;
  it('DATA: exactly the limit is accepted, one octet more is 552 5.3.4', async () => {
    h = await startHarness({ maxMessageSize: limit });
    const c = await inTransaction(h.port);
    const body = 'x'.repeat(limit - 2) + '\r\n';
    expect((await c.cmd('DATA')).code).toBe(354);
    expect((await c.cmd(body + '.')).code).toBe(250);
    expect(h.messages[0].body.length).toBe(limit);
    await c.cmd('MAIL FROM:<a@x.org>');
    await c.cmd('RCPT TO:<b@y.org>');
    expect((await c.cmd('DATA')).code).toBe(354);
    const r = await c.cmd('x' + body + '.');
    expect(r.code).toBe(552);
    expect(r.text).toContain('5.3.4');
    expect(h.messages).toHaveLength(1);
    expect(h.failures).toEqual(['Message size exceeds fixed limit of 100 octets']); // the handler's stream error
    expect((await c.cmd('NOOP')).code).toBe(250); // still in sync
  });

  it('MAIL SIZE= over the limit is refused with 552 5.3.4, at the limit accepted', async () => {
    h = await startHarness({ maxMessageSize: limit });
    const c = await greeted(h.port);
    expect((await c.cmd(`MAIL FROM:<a@x.org> SIZE=${limit + 1}`)).text).toMatch(/^552 5\.3\.4/);
    expect((await c.cmd(`MAIL FROM:<a@x.org> SIZE=${limit}`)).code).toBe(250);
  });

  it('BDAT: the size counts across chunks; the whole chunk is still read', async () => {
    h = await startHarness({ maxMessageSize: limit });
    const c = await inTransaction(h.port);
    c.write(`BDAT 60\r\n${'a'.repeat(60)}`);
    expect((await c.reply()).code).toBe(250);
    c.write(`BDAT 41 LAST\r\n${'b'.repeat(41)}`);
    expect((await c.reply()).text).toMatch(/^552 5\.3\.4/);
    expect((await c.cmd('NOOP')).code).toBe(250);
    expect(h.messages).toHaveLength(0);
    // A refused BDAT (no transaction any more) is read and thrown away before its 503.
    c.write(`BDAT 5 LAST\r\nNOOP\r`);
    expect((await c.reply()).code).toBe(503);
    expect((await c.cmd('NOOP')).code).toBe(250);
  });
});

describe('a client that goes on sending past the size limit (RFC 5321 §4.5.3.1.10)', () => {
  const limit = 64 * 1024;
  const margin = 256 * 1024;
  /** What the socket and our input buffer may hold beyond the cut-off (read, not yet counted). */
  const slack = 512 * 1024;

  /** Streams up to `total` octets as fast as the server reads them; stops when it closes. */
  async function stream(c: RawClient, total: number): Promise<number> {
    const block = Buffer.from(`${'x'.repeat(1022)}\r\n`.repeat(64));
    let sent = 0;
    while (sent < total && !c.isClosed) {
      sent += block.length;
      if (!c.socket.write(block))
        await Promise.race([new Promise((r) => c.socket.once('drain', r)), c.closed]);
    }
    return sent;
  }

  it('DATA: an endless body gets 552 5.3.4 and the close after at most limit + margin octets read', async () => {
    h = await startHarness({ maxMessageSize: limit, oversizeMargin: margin });
    const c = await inTransaction(h.port);
    expect((await c.cmd('DATA')).code).toBe(354);
    const sent = await stream(c, 64 * 1024 * 1024);
    await until('the server closed the connection', () => c.isClosed);
    expect(c.received).toMatch(/\r\n552 5\.3\.4 /);
    await until('the session closed', () => h?.closed.length === 1);
    const read = h.closed[0].bytesReceived;
    expect(read).toBeGreaterThan(limit + margin);
    expect(read).toBeLessThan(limit + margin + slack);
    expect(sent).toBeGreaterThan(read);
    expect(h.messages).toHaveLength(0);
  });

  it('DATA: a body that ends within the margin is read to its end: 552 5.3.4 and the session goes on', async () => {
    h = await startHarness({ maxMessageSize: limit, oversizeMargin: margin });
    const c = await inTransaction(h.port);
    expect((await c.cmd('DATA')).code).toBe(354);
    const line = `${'y'.repeat(1022)}\r\n`;
    c.write(line.repeat(Math.floor((limit + margin) / line.length) - 1));
    expect((await c.cmd('.')).text).toMatch(/^552 5\.3\.4 /);
    expect((await c.cmd('NOOP')).code).toBe(250);
  });

  it('BDAT: a chunk that would pass the limit by more than the margin is cut off', async () => {
    h = await startHarness({ maxMessageSize: limit, oversizeMargin: margin });
    const c = await inTransaction(h.port);
    c.write(`BDAT ${limit + margin + 1} LAST\r\n`);
    await stream(c, 64 * 1024 * 1024);
    await until('the server closed the connection', () => c.isClosed);
    expect(c.received).toMatch(/\r\n552 5\.3\.4 /);
    await until('the session closed', () => h?.closed.length === 1);
    expect(h.closed[0].bytesReceived).toBeLessThan(limit + margin + slack);
  });

  it('BDAT outside a transaction: a huge chunk is not read at all', async () => {
    h = await startHarness({ maxMessageSize: limit, oversizeMargin: margin });
    const c = await greeted(h.port);
    c.write(`BDAT ${limit + margin + 1} LAST\r\n`);
    await stream(c, 64 * 1024 * 1024);
    await until('the server closed the connection', () => c.isClosed);
    expect(c.received).toMatch(/\r\n503 /);
    await until('the session closed', () => h?.closed.length === 1);
    expect(h.closed[0].bytesReceived).toBeLessThan(limit + margin + slack);
  });
});

describe('text line length in DATA (RFC 5321 §4.5.3.1.6)', () => {
  it('1000 octets with CRLF pass, 1001 are refused with 500 5.5.2', async () => {
    h = await startHarness({ maxDataLineLength: 1000 });
    const c = await inTransaction(h.port);
    await c.cmd('DATA');
    expect((await c.cmd('x'.repeat(998) + '\r\n.')).code).toBe(250);
    await c.cmd('MAIL FROM:<a@x.org>');
    await c.cmd('RCPT TO:<b@y.org>');
    await c.cmd('DATA');
    expect((await c.cmd('x'.repeat(999) + '\r\n.')).text).toMatch(/^500 5\.5\.2 Line too long/);
  });
});

describe('recipients per message (RFC 5321 §4.5.3.1.10)', () => {
  it('accepts exactly the limit, then 452 4.5.3', async () => {
    h = await startHarness({ maxRecipients: 3 });
    const c = await greeted(h.port);
    await c.cmd('MAIL FROM:<a@x.org>');
    for (let i = 0; i < 3; i++) expect((await c.cmd(`RCPT TO:<r${i}@y.org>`)).code).toBe(250);
    expect((await c.cmd('RCPT TO:<r4@y.org>')).text).toBe('452 4.5.3 Too many recipients');
    await c.cmd('DATA');
    await c.cmd('.');
    expect(h.messages[0].envelope.recipients).toHaveLength(3);
  });
});

describe('bad commands per session', () => {
  it('answers exactly the limit of errors, then 421 4.7.0 and closes', async () => {
    h = await startHarness({ maxBadCommands: 3 });
    const c = await greeted(h.port);
    for (let i = 0; i < 3; i++) expect((await c.cmd('BOGUS')).code).toBe(500);
    expect((await c.cmd('NOOP')).code).toBe(250); // good commands do not count
    const r = await c.cmd('BOGUS');
    expect(r.text).toBe('421 4.7.0 mx.test Error: too many errors, closing connection');
    await c.closed;
  });

  it('counts sequence errors too', async () => {
    h = await startHarness({ maxBadCommands: 1 });
    const c = await greeted(h.port, false);
    expect((await c.cmd('RCPT TO:<a@b.org>')).code).toBe(503);
    expect((await c.cmd('DATA')).code).toBe(421);
    await c.closed;
  });
});

describe('connections', () => {
  it('per client IP: the limit is accepted, one more gets 421 4.7.0 at connect', async () => {
    h = await startHarness({ maxConnectionsPerIp: 2 });
    const a = await greeted(h.port, false);
    const b = await greeted(h.port, false);
    const c = await RawClient.connect(h.port);
    clients.push(c);
    expect((await c.reply()).text).toBe('421 4.7.0 mx.test Error: too many connections from your address');
    await c.closed;
    b.destroy();
    // The server has let go of b (a and nothing else left): then a new one fits.
    await until('the server to drop the closed connection', () => h?.server.connectionCount === 1);
    const d = await greeted(h.port, false);
    expect((await d.cmd('NOOP')).code).toBe(250);
    expect((await a.cmd('NOOP')).code).toBe(250);
  });

  it('in total: 421 4.3.2 past the limit', async () => {
    h = await startHarness({ maxConnections: 2, maxConnectionsPerIp: 0 });
    await greeted(h.port, false);
    await greeted(h.port, false);
    const c = await RawClient.connect(h.port);
    clients.push(c);
    expect((await c.reply()).text).toMatch(/^421 4\.3\.2/);
    await c.closed;
  });
});

describe('timeouts (RFC 5321 §4.5.3.2)', () => {
  it('idle between commands: 421 4.4.2 and close', async () => {
    h = await startHarness({ idleTimeout: 200 });
    const c = await greeted(h.port);
    const t0 = Date.now();
    expect((await c.reply(3000)).text).toMatch(/^421 4\.4\.2 /);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    await c.closed;
  });

  it('activity keeps the session alive', async () => {
    h = await startHarness({ idleTimeout: 300 });
    const c = await greeted(h.port);
    for (let i = 0; i < 5; i++) {
      await sleep(150);
      expect((await c.cmd('NOOP')).code).toBe(250);
    }
  });

  it('data block timeout during DATA: 421 4.4.2, the handler stream fails', async () => {
    h = await startHarness({ idleTimeout: 5000, dataTimeout: 200 });
    const c = await inTransaction(h.port);
    await c.cmd('DATA');
    c.write('partial body\r\n');
    expect((await c.reply(3000)).text).toMatch(/^421 4\.4\.2 /);
    await c.closed;
    await until('the handler to hear of the failure', () => h?.failures.length === 1);
    expect(h.messages).toHaveLength(0);
    expect(h.failures).toHaveLength(1);
  });
});

describe('early talkers (RFC 5321 §4.3.1)', () => {
  it('a client that talks before the delayed greeting gets 554 5.5.1 and is closed', async () => {
    h = await startHarness({ greetingDelay: 300 });
    const c = await RawClient.connect(h.port);
    clients.push(c);
    c.write('EHLO spammer\r\n');
    const r = await c.reply();
    expect(r.text).toBe('554 5.5.1 Protocol error: client talked before the greeting');
    await c.closed;
  });

  it('a patient client gets the greeting after the delay', async () => {
    h = await startHarness({ greetingDelay: 150 });
    const t0 = Date.now();
    const c = await RawClient.connect(h.port);
    clients.push(c);
    expect((await c.reply()).code).toBe(220);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect((await c.cmd('EHLO ok')).code).toBe(250);
  });

  it('talking while onConnect is still deciding is early talk too', async () => {
    h = await startHarness({}, [{}], { onConnect: () => sleep(200) });
    const c = await RawClient.connect(h.port);
    clients.push(c);
    c.write('EHLO x\r\n');
    expect((await c.reply()).code).toBe(554);
  });
});
