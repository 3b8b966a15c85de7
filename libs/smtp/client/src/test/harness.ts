/**
 * Test-only helpers shared by the interoperability specs: free ports, waiting for a
 * listener, spawning and stopping external peers, and the handle-leak check.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';

/** A free TCP port on loopback (bind :0, read it, release it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Poll until something accepts on host:port. */
export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 10_000): Promise<void> {
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
    await sleep(50);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Spawned {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** SIGTERM this child (by pid), wait for its exit. */
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

export const hasBinary = (path: string): boolean => existsSync(path);
export const isRoot = (): boolean => process.getuid?.() === 0;

// ---------------------------------------------------------------------------------------
// Leak check (cf. maddy's remote_test.go connection-leak check): the kinds of libuv
// handles that would keep the process alive. Counted before a test's client work and
// again after close; everything the client opened must be gone.

const WATCHED = ['TCPSocketWrap', 'TLSWrap', 'Timeout'] as const;
export type ResourceCounts = Record<(typeof WATCHED)[number], number>;

export function resourceCounts(): ResourceCounts {
  const info = process.getActiveResourcesInfo();
  const counts = { TCPSocketWrap: 0, TLSWrap: 0, Timeout: 0 } as ResourceCounts;
  for (const kind of info)
    if ((WATCHED as readonly string[]).includes(kind)) counts[kind as keyof ResourceCounts]++;
  return counts;
}

/**
 * Wait (briefly: in-process servers close their end asynchronously) until no watched
 * handle exceeds the baseline; throws with the counts otherwise.
 */
export async function expectNoLeaks(baseline: ResourceCounts, waitMs = 2_000): Promise<void> {
  const deadline = Date.now() + waitMs;
  let now = resourceCounts();
  while (WATCHED.some((k) => now[k] > baseline[k]) && Date.now() < deadline) {
    await sleep(20);
    now = resourceCounts();
  }
  const leaked = WATCHED.filter((k) => now[k] > baseline[k]);
  if (leaked.length > 0) {
    throw new Error(`leaked handles: ${leaked.map((k) => `${k} ${baseline[k]} → ${now[k]}`).join(', ')}`);
  }
}
