// Postfix's smtp-sink(1) as the remote end of a delivery benchmark: accepts everything,
// counts messages as they arrive (-c) and dumps each one to a file (-d) for checking afterwards.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onCleanup } from './cleanup.mjs';
import { deadline, freePort, portOpen, waitFor } from './processes.mjs';

export const SMTP_SINK = '/usr/sbin/smtp-sink';

/**
 * `smtp-sink -u nobody -c -d <dir>/m. [faults] 127.0.0.1:<port> <backlog>`. `count()` is the
 * number of messages received so far (from the -c counters on stdout, "mesg=N", updated at
 * each "."); `reached(n)` resolves with the process.hrtime.bigint() at which the count first
 * reached n. `port` (default a free one) and `dir` (default a fresh temporary directory, removed
 * at stop; a given one is kept) let a sink be stopped and started again in another mode on the
 * same address with the same dumps; `faults` are smtp-sink's fault flags (`-r DATA`: 4xx to
 * DATA, `-w 2`: wait 2 s before answering DATA, ...).
 */
export async function startSmtpSink({ backlog = 256, port: givenPort, dir: givenDir, faults = [] } = {}) {
  const port = givenPort ?? (await freePort());
  const dir = givenDir ?? mkdtempSync(path.join(os.tmpdir(), 'bench-sink-'));
  chmodSync(dir, 0o777); // smtp-sink drops to `nobody` before it writes dumps
  const child = spawn(
    SMTP_SINK,
    ['-u', 'nobody', '-c', '-d', path.join(dir, 'm.'), ...faults, `127.0.0.1:${port}`, String(backlog)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let count = 0;
  let stderr = '';
  const waiters = [];
  child.stdout.on('data', (d) => {
    const text = String(d);
    const at = process.hrtime.bigint();
    const i = text.lastIndexOf('mesg=');
    if (i < 0) return;
    count = Math.max(count, parseInt(text.slice(i + 5), 10) || 0);
    for (let j = waiters.length - 1; j >= 0; j--)
      if (count >= waiters[j].n) waiters.splice(j, 1)[0].resolve(at);
  });
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-5000)));
  let exited = false;
  const exit = new Promise((resolve) => child.on('exit', () => ((exited = true), resolve())));
  const stop = onCleanup(async () => {
    if (!exited) {
      child.kill('SIGTERM');
      await Promise.race([exit, deadline(5000)]);
      if (!exited) child.kill('SIGKILL');
    }
    if (!givenDir) rmSync(dir, { recursive: true, force: true });
  });
  try {
    await waitFor('smtp-sink port', async () => !exited && (await portOpen(port)), 10_000);
  } catch (e) {
    await stop();
    throw new Error(`smtp-sink did not start: ${e.message} ${stderr}`);
  }
  return {
    port,
    pid: child.pid,
    count: () => count,
    reached: (n) =>
      count >= n
        ? Promise.resolve(process.hrtime.bigint())
        : new Promise((resolve) => waiters.push({ n, resolve })),
    dir,
    /** The dump files: how many, and the Message-Id of each (null where a file has none). */
    dumps: () =>
      sinkDumps(dir).map((text) => /^Message-Id:\s*(\S+)/im.exec(text.slice(0, 4096))?.[1] ?? null),
    stderr: () => stderr,
    stop,
  };
}

/** The text of every dump file in `dir` (one per transaction, complete or not). */
export const sinkDumps = (dir) =>
  readdirSync(dir).map((name) => readFileSync(path.join(dir, name), 'latin1'));
