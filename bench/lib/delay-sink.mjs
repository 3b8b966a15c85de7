// The slow receiver of the latency-bound benchmark (delay-sink-server.mjs) as a child process,
// with the interface of startSmtpSink: count(), reached(n), dumps() (the Message-Ids), pid, stop().
// Also: at(k), when the k-th message (1-based) arrived, and stats(), the replies by command so far.
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { onCleanup } from './cleanup.mjs';
import { deadline, freePort } from './processes.mjs';

const SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'delay-sink-server.mjs');

/** Starts one sink process on `port` (default: free on 127.0.0.1) of every address in `addresses`. */
export async function startDelaySink({ addresses, delayMs, port: givenPort }) {
  const port = givenPort ?? (await freePort());
  const child = spawn(process.execPath, [SERVER, JSON.stringify({ addresses, port, delayMs })], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const ids = [];
  const times = [];
  const waiters = [];
  let statsWaiter = null;
  let stderr = '';
  let onListening;
  const listening = new Promise((r) => (onListening = r));
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith('M ')) {
      const at = process.hrtime.bigint();
      ids.push(line.slice(2) === '-' ? null : line.slice(2));
      times.push(at);
      for (let j = waiters.length - 1; j >= 0; j--)
        if (ids.length >= waiters[j].n) waiters.splice(j, 1)[0].resolve(at);
    } else if (line.startsWith('S ')) statsWaiter?.(JSON.parse(line.slice(2)));
    else if (line === 'L') onListening(true);
  });
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-5000)));
  let exited = false;
  const exit = new Promise((resolve) => child.on('exit', () => ((exited = true), resolve())));
  exit.then(() => onListening(false));
  const stop = onCleanup(async () => {
    if (exited) return;
    child.stdin.end();
    await Promise.race([exit, deadline(5000)]);
    if (!exited) child.kill('SIGKILL');
  });
  if (!(await Promise.race([listening, deadline(10_000).then(() => false)]))) {
    await stop();
    throw new Error(`delay sink did not start: ${stderr}`);
  }
  return {
    port,
    pid: child.pid,
    count: () => ids.length,
    reached: (n) =>
      ids.length >= n
        ? Promise.resolve(process.hrtime.bigint())
        : new Promise((resolve) => waiters.push({ n, resolve })),
    /** When the k-th message (1-based) arrived (process.hrtime.bigint()), or undefined. */
    at: (k) => times[k - 1],
    dumps: () => [...ids],
    /** { replies: {CONNECT, EHLO, MAIL, RCPT, DATA, DOT, RSET, QUIT...}, connections } so far. */
    stats: () =>
      new Promise((resolve) => {
        statsWaiter = resolve;
        child.stdin.write('stats\n');
      }),
    stderr: () => stderr,
    stop,
  };
}
