/** Graceful close(): stop accepting, let transactions finish, 421 4.3.2 to idle sessions; no leaks. */
import { describe, expect, it } from 'vitest';
import { selfSignedCertificate, until } from '@mta/testing';
import { startHarness } from './harness.testutil';
import { RawClient } from './raw-client.testutil';

function resources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

/** The kinds of handle there are more of now than in `before` (one that ended since is no leak). */
function beyond(before: Record<string, number>): Record<string, number> {
  const now = resources();
  return Object.fromEntries(Object.entries(now).filter(([kind, n]) => n > (before[kind] ?? 0)));
}

describe('graceful close()', () => {
  it('idle sessions get 421 4.3.2 at once, a transaction in progress may finish first', async () => {
    const h = await startHarness({ closeTimeout: 5000 });
    const idle = await RawClient.connect(h.port);
    await idle.reply();
    const busy = await RawClient.connect(h.port);
    await busy.reply();
    await busy.cmd('EHLO c');
    await busy.cmd('MAIL FROM:<a@x.org>');
    await busy.cmd('RCPT TO:<b@y.org>');
    const closing = h.server.close();
    expect((await idle.reply()).text).toBe('421 4.3.2 mx.test Service shutting down, closing connection');
    await idle.closed;
    // New connections are refused.
    await expect(RawClient.connect(h.port)).rejects.toThrow();
    // The transaction in progress completes...
    expect((await busy.cmd('DATA')).code).toBe(354);
    expect((await busy.cmd('last words\r\n.')).code).toBe(250);
    // ...and the next transaction is refused.
    expect((await busy.cmd('MAIL FROM:<a@x.org>')).code).toBe(421);
    await busy.closed;
    await closing;
    expect(h.messages).toHaveLength(1);
  });

  it('after closeTimeout the stragglers get 421 4.3.2', async () => {
    const h = await startHarness({ closeTimeout: 200 });
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.cmd('EHLO c');
    await c.cmd('MAIL FROM:<a@x.org>');
    const t0 = Date.now();
    await h.server.close();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    expect((await c.reply()).code).toBe(421);
    await c.closed;
  });

  it('leaves no sockets, servers or timers behind', async () => {
    const cert = await selfSignedCertificate(['localhost']);
    const before = resources();
    const h = await startHarness({ tls: { key: cert.key, cert: cert.cert }, greetingDelay: 10 }, [
      {},
      { implicitTls: true },
      { proxyProtocol: true },
    ]);
    const clients = [
      await RawClient.connect(h.ports[0]),
      await RawClient.connect(h.ports[1], { tls: true }),
      await RawClient.connect(h.ports[0]),
    ];
    await clients[0].reply();
    await clients[0].cmd('EHLO c');
    await clients[0].cmd('STARTTLS');
    await clients[0].startTls();
    await clients[1].reply();
    await clients[2].reply();
    await clients[2].cmd('QUIT');
    const half = await RawClient.connect(h.ports[2]); // never sends its PROXY header
    await h.server.close();
    await Promise.all([...clients, half].map((c) => c.closed));
    await until(
      'every socket, server and timer released',
      () => Object.keys(beyond(before)).length === 0,
    ).catch(
      () => undefined, // the assertion below says what is left
    );
    expect(beyond(before)).toEqual({});
    expect(h.closed.length).toBe(3);
    expect(h.server.connectionCount).toBe(0);
  });
});

describe('drain(window)', () => {
  const SHUTTING_DOWN = '421 4.3.2 mx.test Service shutting down, closing connection';

  it('keeps answering new connections with 421 4.3.2 during the window; open transactions finish', async () => {
    const cert = await selfSignedCertificate(['localhost']);
    const h = await startHarness({ tls: { key: cert.key, cert: cert.cert } }, [
      {},
      { implicitTls: true },
      { proxyProtocol: true },
    ]);
    const idle = await RawClient.connect(h.port);
    await idle.reply();
    const busy = await RawClient.connect(h.port);
    await busy.reply();
    await busy.cmd('EHLO c');
    await busy.cmd('MAIL FROM:<a@x.org>');
    await busy.cmd('RCPT TO:<b@y.org>');
    let drained = false;
    const draining = h.server.drain(60_000).then(() => (drained = true));
    expect((await idle.reply()).text).toBe(SHUTTING_DOWN);
    await idle.closed;
    // New sessions, plain and implicit TLS, are told 421 instead of finding the port closed.
    const late = await RawClient.connect(h.ports[0]);
    expect((await late.reply()).text).toBe(SHUTTING_DOWN);
    await late.closed;
    const lateTls = await RawClient.connect(h.ports[1], { tls: true });
    expect((await lateTls.reply()).text).toBe(SHUTTING_DOWN);
    await lateTls.closed;
    // Behind a load balancer: the PROXY header first (nothing is said before it), then the 421.
    const proxied = await RawClient.connect(h.ports[2]);
    proxied.write('PROXY TCP4 192.0.2.1 192.0.2.2 40000 25\r\n');
    expect((await proxied.reply()).text).toBe(SHUTTING_DOWN);
    await proxied.closed;
    // The transaction in progress completes, then the session is told 421.
    expect((await busy.cmd('DATA')).code).toBe(354);
    expect((await busy.cmd('last words\r\n.')).code).toBe(250);
    expect((await busy.reply()).text).toBe(SHUTTING_DOWN);
    await busy.closed;
    expect(h.messages).toHaveLength(1);
    expect(drained).toBe(false); // the window is not over: still listening
    const again = await RawClient.connect(h.port);
    expect((await again.reply()).code).toBe(421);
    await h.server.close(); // ends the window early
    await draining;
    await expect(RawClient.connect(h.port)).rejects.toThrow();
  });

  it('at the end of the window, a message being committed still gets its 250, then 421', async () => {
    let release!: () => void;
    const committing = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const commitStarted = new Promise<void>((r) => (started = r));
    const h = await startHarness({}, [{}], {
      async onData(_session, _envelope, body) {
        for await (const _ of body) void _;
        started();
        await committing;
        return 'Q1';
      },
    });
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.cmd('EHLO c');
    await c.cmd('MAIL FROM:<a@x.org>');
    await c.cmd('RCPT TO:<b@y.org>');
    await c.cmd('DATA');
    c.write('Subject: x\r\n\r\nbody\r\n.\r\n');
    await commitStarted;
    let closed = false;
    const draining = h.server.drain(0).then(() => (closed = true));
    // The drain is under way once the port no longer takes connections; the commit still holds the close.
    await until('the listener to close', () =>
      RawClient.connect(h.port).then(
        (x) => (x.destroy(), false),
        () => true,
      ),
    );
    expect(closed).toBe(false);
    release();
    expect((await c.reply()).text).toMatch(/^250 .*Q1/);
    expect((await c.reply()).text).toBe(SHUTTING_DOWN);
    await c.closed;
    await draining;
  });

  it('with a window of 0 behaves like close(0): stragglers in a transaction are told 421', async () => {
    const h = await startHarness();
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.cmd('EHLO c');
    await c.cmd('MAIL FROM:<a@x.org>');
    await h.server.drain(0);
    expect((await c.reply()).text).toBe(SHUTTING_DOWN);
    await c.closed;
    expect(h.server.connectionCount).toBe(0);
  });
});

describe('listen()', () => {
  it('rejects a port in use and still closes cleanly', async () => {
    const h = await startHarness();
    await expect(h.server.listen({ host: '127.0.0.1', port: h.port })).rejects.toThrow(/EADDRINUSE/);
    expect(h.server.addresses()).toHaveLength(1);
    await h.server.close();
  });
});
