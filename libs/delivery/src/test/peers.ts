/**
 * Test-only helpers (not exported): real peers on loopback addresses (127.0.0.x are all
 * loopback on Linux), started per test and stopped by pid.
 *
 * - Postfix's smtp-sink(1) as a remote MX, with fault flags (`-r`/`-f` 4xx/5xx for a command,
 *   `-q`/`-Q` drop/421) and dump files (`-d`) to compare what arrived with what was sent;
 * - a counting TCP relay, to see how many connections an agent opened;
 * - the leak check (sockets, TLS wrappers, timers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const SMTP_SINK = '/usr/sbin/smtp-sink';
export const haveSmtpSink = (): boolean => existsSync(SMTP_SINK);
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Spawned {
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export function spawnPeer(cmd: string, args: readonly string[]): Spawned {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A port that was free on every one of `hosts` a moment ago (the MXs of a test share `DELIVERY_PORT`). */
export async function portFreeOn(hosts: readonly string[]): Promise<number> {
  for (;;) {
    const port = await bindAndRelease(hosts[0], 0);
    const rest = await Promise.all(hosts.slice(1).map((h) => bindAndRelease(h, port).catch(() => -1)));
    if (rest.every((p) => p === port)) return port;
  }
}

/** A port free on `host` a moment ago. */
export const freePortOn = (host = '127.0.0.1'): Promise<number> => bindAndRelease(host, 0);

function bindAndRelease(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(port, host, () => {
      const bound = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(bound));
    });
  });
}

export async function waitForPort(port: number, host: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${host}:${port}`);
    await sleep(25);
  }
}

export interface Sink {
  readonly host: string;
  readonly port: number;
  /** Messages received (dump files), LF line endings, with smtp-sink's X- records split off. */
  dumps(): { meta: Record<string, string[]>; content: string }[];
  stop(): Promise<void>;
}

/** smtp-sink on `host:port` (`-u nobody`, dumps in a temp dir), with fault flags. */
export async function startSink(host: string, port: number, faults: readonly string[] = []): Promise<Sink> {
  const dir = mkdtempSync(path.join(tmpdir(), 'delivery-sink-'));
  chmodSync(dir, 0o777); // the sink writes as `nobody`
  const proc = spawnPeer(SMTP_SINK, [
    '-u',
    'nobody',
    '-d',
    path.join(dir, 'msg.'),
    ...faults,
    `${host}:${port}`,
    '16',
  ]);
  try {
    await waitForPort(port, host);
  } catch (e) {
    await proc.stop();
    throw new Error(`smtp-sink did not start: ${proc.output()}`, { cause: e });
  }
  return {
    host,
    port,
    dumps: () => readdirSync(dir).map((f) => parseDump(readFileSync(path.join(dir, f), 'latin1'))),
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** smtp-sink(1) "DUMP FILE FORMAT": X- records, a three-line Received header, the message, an empty line. */
function parseDump(text: string): { meta: Record<string, string[]>; content: string } {
  const lines = text.split('\n');
  const meta: Record<string, string[]> = {};
  let i = 0;
  for (; i < lines.length && lines[i].startsWith('X-'); i++) {
    const [key, ...rest] = lines[i].split(': ');
    (meta[key] ??= []).push(rest.join(': '));
  }
  if (lines[i]?.startsWith('Received:')) i += 3;
  const body = lines.slice(i).join('\n');
  return { meta, content: body.endsWith('\n\n') ? body.slice(0, -1) : body };
}

export interface CountingRelay {
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections open now. */
  readonly open: number;
  /** Drop every open connection (the server went away while our session was idle). */
  cut(): void;
  close(): Promise<void>;
}

/** Listens on `host:port` and relays each connection to `target`, counting them. */
export async function countingRelay(
  host: string,
  port: number,
  target: { host: string; port: number },
): Promise<CountingRelay> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
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

const WATCHED = ['TCPSocketWrap', 'TLSWrap', 'Timeout'] as const;
export type ResourceCounts = Record<(typeof WATCHED)[number], number>;

export function resourceCounts(): ResourceCounts {
  const counts: ResourceCounts = { TCPSocketWrap: 0, TLSWrap: 0, Timeout: 0 };
  for (const kind of process.getActiveResourcesInfo())
    if (kind in counts) counts[kind as keyof ResourceCounts]++;
  return counts;
}

/** Waits briefly for handles above `baseline` to go away; throws with the counts if they stay. */
export async function expectNoLeaks(baseline: ResourceCounts, waitMs = 2_000): Promise<void> {
  const deadline = Date.now() + waitMs;
  let now = resourceCounts();
  while (WATCHED.some((k) => now[k] > baseline[k]) && Date.now() < deadline) {
    await sleep(20);
    now = resourceCounts();
  }
  const leaked = WATCHED.filter((k) => now[k] > baseline[k]);
  if (leaked.length > 0)
    throw new Error(`leaked: ${leaked.map((k) => `${k} ${baseline[k]} → ${now[k]}`).join(', ')}`);
}
