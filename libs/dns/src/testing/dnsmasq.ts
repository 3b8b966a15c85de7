/**
 * Runs Debian's dnsmasq on 127.0.0.1 for tests: a real DNS server nobody here wrote, serving
 * only the records given on its command line (`--mx-host`, `--host-record`, `--cname`) and
 * never asking anyone else (`--no-resolv`, `--local=/test/`).
 * Test support only: not exported from the library's index.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export const DNSMASQ = '/usr/sbin/dnsmasq';

export interface Dnsmasq {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** Starts dnsmasq with `records` (dnsmasq options) on a port from `pickPort`; retries if taken. */
export async function startDnsmasq(records: string[], pickPort: () => Promise<number>): Promise<Dnsmasq> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await pickPort();
    try {
      const child = await spawnReady(port, records);
      return { host: '127.0.0.1', port, close: () => stop(child) };
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

function spawnReady(port: number, records: string[]): Promise<ChildProcess> {
  const args = [
    '--no-daemon',
    `--port=${port}`,
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    '--conf-file=/dev/null',
    '--pid-file=',
    '--user=root',
    // Only locally configured names under .test are answered; everything else there is NXDOMAIN.
    '--local=/test/',
    ...records,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(DNSMASQ, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dnsmasq did not start within 10 s: ${log}`));
    }, 10_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      log += String(chunk);
      if (/dnsmasq: started/.test(log)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dnsmasq exited with ${code}: ${log}`));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
