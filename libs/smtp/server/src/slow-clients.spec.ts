/**
 * Slow clients (issue 17): deadlines per record, as Postfix's `smtpd_per_record_deadline` and
 * `smtpd_min_data_rate`. A client that trickles bytes in does not restart the clock. Over a real
 * socket; the test waits for the server's close, it does not time it.
 */
import { until } from '@mta/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.testutil';
import { RawClient, sleep } from './raw-client.testutil';

let h: Harness | null = null;
const clients: RawClient[] = [];
afterEach(async () => {
  clients.splice(0).forEach((c) => c.destroy());
  await h?.close();
  h = null;
});

async function connect(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  expect((await c.reply()).code).toBe(220);
  return c;
}

/** Writes `text` `size` octets at a time every `everyMs` until done or closed; what was left unsent. */
async function trickle(c: RawClient, text: string, size: number, everyMs: number): Promise<string> {
  let rest = text;
  while (rest !== '' && !c.isClosed) {
    c.write(rest.slice(0, size));
    rest = rest.slice(size);
    await sleep(everyMs);
  }
  return rest;
}

async function closedWithTimeout(c: RawClient): Promise<void> {
  await until('the server closed the connection', () => c.isClosed);
  expect(c.received).toMatch(/(^|\r\n)421 4\.4\.2 mx\.test Error: timeout exceeded/);
}

describe('slow clients: deadlines per record', () => {
  it('a command line sent a byte at a time must still be complete within idleTimeout', async () => {
    h = await startHarness({ idleTimeout: 500 });
    const c = await connect(h.port);
    const unsent = await trickle(c, `EHLO ${'slow'.repeat(20)}.example\r\n`, 1, 50);
    await closedWithTimeout(c);
    expect(unsent).not.toBe(''); // cut off before the line was complete
    expect(c.received).not.toMatch(/\r\n250/);
  });

  it('a command line in time is answered, and the next one has its own deadline', async () => {
    h = await startHarness({ idleTimeout: 1500 });
    const c = await connect(h.port);
    await trickle(c, 'NOOP\r\n', 1, 20);
    await until('the NOOP answered', () => c.received.includes('250 '));
    await trickle(c, 'NOOP\r\n', 1, 20);
    expect((await c.reply()).code).toBe(250);
    expect((await c.reply()).code).toBe(250);
    expect(c.isClosed).toBe(false);
  });

  it('DATA: a body slower than minDataRate runs out of dataTimeout; the handler stream fails', async () => {
    h = await startHarness({ idleTimeout: 60_000, dataTimeout: 500, minDataRate: 500 });
    const c = await connect(h.port);
    await c.cmd('EHLO c.example');
    await c.cmd('MAIL FROM:<a@x.org>');
    await c.cmd('RCPT TO:<b@y.org>');
    expect((await c.cmd('DATA')).code).toBe(354);
    const unsent = await trickle(c, `${'x'.repeat(200)}\r\n.\r\n`, 1, 50);
    await closedWithTimeout(c);
    expect(unsent).not.toBe('');
    await until('the handler saw the failure', () => h?.failures.length === 1);
    expect(h.messages).toHaveLength(0);
  });

  it('DATA: a client fast enough for minDataRate is still cut off at dataPhaseTimeout', async () => {
    h = await startHarness({ dataTimeout: 60_000, minDataRate: 10, dataPhaseTimeout: 800 });
    const c = await connect(h.port);
    await c.cmd('EHLO c.example');
    await c.cmd('MAIL FROM:<a@x.org>');
    await c.cmd('RCPT TO:<b@y.org>');
    expect((await c.cmd('DATA')).code).toBe(354);
    const unsent = await trickle(c, `${'y'.repeat(78)}\r\n`.repeat(400), 80, 25);
    await closedWithTimeout(c);
    expect(unsent).not.toBe('');
  });

  it('BDAT: the phase deadline holds across chunks', async () => {
    h = await startHarness({ idleTimeout: 60_000, dataTimeout: 60_000, dataPhaseTimeout: 800 });
    const c = await connect(h.port);
    await c.cmd('EHLO c.example');
    await c.cmd('MAIL FROM:<a@x.org>');
    await c.cmd('RCPT TO:<b@y.org>');
    for (let i = 0; i < 400 && !c.isClosed; i++) {
      c.write(`BDAT 10\r\n0123456789`);
      await sleep(25);
    }
    await closedWithTimeout(c);
    expect(h.messages).toHaveLength(0);
  });
});
