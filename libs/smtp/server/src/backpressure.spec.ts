/** Flow control: a slow handler slows the client down; replies go out in batches (RFC 2920). */
import { afterEach, describe, expect, it } from 'vitest';
import { SmtpError } from '@mta/smtp-protocol';
import { readAll, sha256, startHarness, type Harness } from './harness.testutil';
import { RawClient, sleep } from './raw-client.testutil';
import type { SessionInfo } from './handler';

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

describe('backpressure', () => {
  it('stops reading the socket while the handler does not read the body', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let info: SessionInfo | null = null;
    let digest = '';
    h = await startHarness({ maxMessageSize: 0, maxDataLineLength: 0 }, [{}], {
      async onData(session, _env, body) {
        info = session;
        await released;
        digest = sha256(await readAll(body));
        return 'SLOW1';
      },
    });
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.cmd('EHLO c');
    await c.cmd('MAIL FROM:<a@x.org>');
    await c.cmd('RCPT TO:<b@y.org>');
    expect((await c.cmd('DATA')).code).toBe(354);
    const line = Buffer.from('x'.repeat(78) + '\r\n');
    const body = Buffer.concat(Array(400_000).fill(line)); // 32 MB
    let written = false;
    c.socket.write(body, () => (written = true));
    await sleep(500);
    const read = (info as SessionInfo | null)?.bytesReceived ?? 0;
    // Bounded by the socket and stream buffers, nowhere near the 32 MB sent.
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThan(2 * 1024 * 1024);
    expect(written).toBe(false);
    await sleep(300);
    expect((info as SessionInfo | null)?.bytesReceived).toBe(read); // and it stays there
    release();
    c.write('.\r\n');
    const r = await c.reply(20_000);
    expect(r.text).toBe('250 2.0.0 OK: queued as SLOW1');
    expect(digest).toBe(sha256(body));
    c.destroy();
  });
});

describe('PIPELINING (RFC 2920)', () => {
  it('answers a pipelined group in one write, in order, with per-command results', async () => {
    h = await startHarness({}, [{}], {
      onRcptTo: async (_s, r) => {
        await sleep(5);
        if (r.to.local === 'bad') throw new SmtpError(550, '5.1.1', 'No such user');
      },
    });
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.cmd('EHLO c');
    const chunks: string[] = [];
    c.socket.on('data', (d: Buffer) => chunks.push(d.toString()));
    c.write(
      'MAIL FROM:<a@x.org>\r\nRCPT TO:<ok1@y.org>\r\nRCPT TO:<bad@y.org>\r\nRCPT TO:<ok2@y.org>\r\nDATA\r\n',
    );
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await c.reply()).code);
    expect(codes).toEqual([250, 250, 550, 250, 354]);
    expect(chunks).toHaveLength(1);
    c.write('body\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\n');
    const tail = [await c.reply(), await c.reply(), await c.reply(), await c.reply()].map((r) => r.code);
    expect(tail).toEqual([250, 250, 250, 221]);
    expect(h.messages[0].envelope.recipients.map((r) => r.address.local)).toEqual(['ok1', 'ok2']);
    await c.closed;
  });

  it('drops what follows QUIT', async () => {
    h = await startHarness();
    const c = await RawClient.connect(h.port);
    await c.reply();
    c.write('QUIT\r\nNOOP\r\n');
    expect((await c.reply()).code).toBe(221);
    await c.closed;
    expect(c.unread).toBe('');
  });
});
