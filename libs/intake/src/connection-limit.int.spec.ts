/**
 * SMTP_MAX_CONNECTIONS_PER_IP through the real mx: the limit's connections get their greeting,
 * one more gets 421 4.7.0 and is closed; when one leaves, the next is greeted again.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intakeFixture, type IntakeFixture } from './testing/intake-fixture';

/** Connects and resolves with the first reply line (the greeting or the refusal). */
function connect(port: number): Promise<{ socket: net.Socket; first: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.on('error', reject);
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n');
      if (end >= 0) resolve({ socket, first: text.slice(0, end) });
    });
  });
}

describe('connections per client address (SMTP_MAX_CONNECTIONS_PER_IP)', () => {
  let fx: IntakeFixture;
  let port: number;

  beforeAll(async () => {
    fx = await intakeFixture();
    [port] = (await fx.start('mx', { SMTP_MAX_CONNECTIONS_PER_IP: '3' })).ports as [number];
  });
  afterAll(() => fx?.close());

  it('greets the limit’s connections and refuses one more with 421 4.7.0', async () => {
    const open = await Promise.all([1, 2, 3].map(() => connect(port)));
    try {
      for (const c of open) expect(c.first).toMatch(/^220 /);
      const past = await connect(port);
      expect(past.first).toMatch(/^421 4\.7\.0 .*too many connections from your address/);
      await new Promise((resolve) => past.socket.once('close', resolve)); // and closed by us
      const leaving = open.pop();
      leaving?.socket.end('QUIT\r\n');
      await new Promise((resolve) => leaving?.socket.once('close', resolve));
      const next = await connect(port);
      open.push(next);
      expect(next.first).toMatch(/^220 /);
    } finally {
      for (const c of open) c.socket.destroy();
    }
  });
});
