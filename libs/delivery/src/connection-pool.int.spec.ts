/**
 * The session pool's limits against smtp-sink behind a counting relay: idle sessions are closed
 * after `idleTimeoutMs`; a session the server dropped while idle is noticed (its socket closed) and replaced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MxResolver } from '@mta/dns';
import { aRecord, mxRecord, requirePeer, startFakeDns, until } from '@mta/testing';
import { SmtpConnectionPool } from './remote/connection-pool';
import { RemoteDeliveryAgent } from './remote/remote-agent';
import { message, request } from './test/fixtures';
import {
  countingRelay,
  expectNoLeaks,
  haveSmtpSink,
  portFreeOn,
  resourceCounts,
  sleep,
  startSink,
} from './test/peers';

const FRONT = '127.0.0.6';
const SINK = '127.0.0.7';

describe.skipIf(!requirePeer('smtp-sink', haveSmtpSink()))('SmtpConnectionPool', () => {
  let dns: Awaited<ReturnType<typeof startFakeDns>>;
  let resolver: MxResolver;
  beforeAll(async () => {
    dns = await startFakeDns([mxRecord('pool.test', 10, 'mx.pool.test'), aRecord('mx.pool.test', FRONT)]);
    resolver = new MxResolver({ servers: dns.servers, cache: false });
  });
  afterAll(async () => {
    await dns.close();
  });

  async function setup(pool: SmtpConnectionPool) {
    const port = await portFreeOn([FRONT, SINK]);
    const sink = await startSink(SINK, port);
    const relay = await countingRelay(FRONT, port, { host: SINK, port });
    const agent = new RemoteDeliveryAgent({ heloName: 'out.example.org', resolver, port, pool });
    return {
      sink,
      relay,
      agent,
      async stop() {
        await agent.close();
        await pool.close();
        await relay.close();
        await sink.stop();
      },
    };
  }

  it('closes an idle session after idleTimeoutMs', async () => {
    const baseline = resourceCounts();
    const pool = new SmtpConnectionPool({ idleTimeoutMs: 150 });
    const t = await setup(pool);
    await t.agent.deliver(request(['a@pool.test'], message('idle')));
    expect(pool.size).toBe(1);
    expect(t.relay.open).toBe(1);
    // The idle timer fires, QUIT goes out and the socket closes: wait for that, not for the clock.
    await until('the idle session closed', () => pool.size === 0 && t.relay.open === 0);
    await t.stop();
    await expectNoLeaks(baseline);
  });

  it('replaces a pooled session the server dropped while it was idle', async () => {
    const pool = new SmtpConnectionPool();
    const t = await setup(pool);
    expect((await t.agent.deliver(request(['a@pool.test'], message('before-drop')))).results[0].kind).toBe(
      'delivered',
    );
    t.relay.cut();
    await sleep(50);
    const report = await t.agent.deliver(request(['a@pool.test'], message('after-drop')));
    expect(report.results[0].kind).toBe('delivered');
    expect(t.relay.accepted).toBe(2);
    expect(t.sink.dumps()).toHaveLength(2);
    await t.stop();
  });

  it('closes sessions given back after close()', async () => {
    const pool = new SmtpConnectionPool();
    const t = await setup(pool);
    await pool.close();
    await t.agent.deliver(request(['a@pool.test'], message('after-close')));
    expect(pool.size).toBe(0);
    await pool.close(); // waits for the background QUIT
    await until('the server side of the session closed', () => t.relay.open === 0);
    await t.stop();
  });
});
