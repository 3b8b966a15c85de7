// dnsmasq on a free loopback port, answering only the records given on its command line
// (--mx-host, --host-record...) with a long TTL so that resolvers may cache them.
import { spawn } from 'node:child_process';
import { onCleanup } from './cleanup.mjs';
import { deadline, freePort } from './processes.mjs';

export const DNSMASQ = '/usr/sbin/dnsmasq';

/** Starts dnsmasq with `records`; `localDomain` (e.g. `example`) is answered locally only, never forwarded. */
export async function startDnsmasq(records, { localDomain, ttl = 300 } = {}) {
  const port = await freePort();
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
    `--local-ttl=${ttl}`,
    ...(localDomain ? [`--local=/${localDomain}/`] : []),
    ...records,
  ];
  const child = spawn(DNSMASQ, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let exited = false;
  const exit = new Promise((resolve) => child.on('exit', () => ((exited = true), resolve())));
  const stop = onCleanup(async () => {
    if (exited) return;
    child.kill('SIGTERM');
    await Promise.race([exit, deadline(5000)]);
    if (!exited) child.kill('SIGKILL');
  });
  let log = '';
  const started = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 10_000);
    child.stderr.on('data', (d) => {
      log += d;
      if (/dnsmasq: started/.test(log)) (clearTimeout(timer), resolve(true));
    });
    exit.then(() => (clearTimeout(timer), resolve(false)));
  });
  if (!started) {
    await stop();
    throw new Error(`dnsmasq did not start: ${log}`);
  }
  return { host: '127.0.0.1', port, pid: child.pid, stop };
}
