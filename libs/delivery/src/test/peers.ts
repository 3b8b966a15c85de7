/**
 * Test-only helpers (not exported): real peers on loopback addresses (127.0.0.x are all
 * loopback on Linux), started per test and stopped by pid. The peers themselves (smtp-sink,
 * spawning, the leak check) come from @mta/testing; what is here is this lib's own use of them.
 *
 * - Postfix's smtp-sink(1) as a remote MX, with fault flags (`-r`/`-f` 4xx/5xx for a command,
 *   `-q`/`-Q` drop/421) and dump files (`-d`) to compare what arrived with what was sent;
 * - a counting TCP relay, to see how many connections an agent opened;
 * - the leak check (sockets, TLS wrappers, timers).
 */
import net from 'node:net';
import * as testing from '@mta/testing';

export const {
  expectNoLeaks,
  freePort,
  haveSmtpSink,
  portFreeOn,
  resourceCounts,
  sleep,
  spawnPeer,
  waitForPort,
} = testing;
export type ResourceCounts = testing.ResourceCounts;
export type Spawned = testing.Spawned;

export type Sink = testing.SmtpSink;

/** smtp-sink (@mta/testing) on `host:port`, with fault flags. */
export const startSink = (host: string, port: number, faults: readonly string[] = []): Promise<Sink> =>
  testing.startSmtpSink({ host, port, faults });

export interface CountingRelay {
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections open now. */
  readonly open: number;
  /** Drop every open connection (the server went away while our session was idle). */
  cut(): void;
  close(): Promise<void>;
}

export interface CountingRelayOptions {
  /**
   * Drops the connection, unanswered, when the client's `mail`-th MAIL command of its
   * `connection`-th connection (both from 1) arrives: a server that went away just as a pooled
   * session was taken again.
   */
  readonly dropAtMail?: { readonly connection: number; readonly mail: number };
}

/** Listens on `host:port` and relays each connection to `target`, counting them. */
export async function countingRelay(
  host: string,
  port: number,
  target: { host: string; port: number },
  options: CountingRelayOptions = {},
): Promise<CountingRelay> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const connection = ++accepted;
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    const drop = options.dropAtMail;
    if (drop?.connection === connection) {
      let mails = 0;
      client.on('data', (chunk: Buffer) => {
        mails += chunk.toString('latin1').match(/^MAIL FROM:/gim)?.length ?? 0;
        if (mails >= drop.mail) client.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    get accepted() {
      return accepted;
    },
    get open() {
      return [...sockets].filter((s) => s.remotePort !== target.port).length;
    },
    cut() {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
