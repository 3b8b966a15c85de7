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
 * `smtp-sink -u nobody -c -d <tmp>/m. 127.0.0.1:<free port> <backlog>`. `count()` is the
 * number of messages received so far (from the -c counters on stdout, "mesg=N", updated at
 * each "."); `reached(n)` resolves with the process.hrtime.bigint() at which the count first
 * reached n.
 */
export async function startSmtpSink({ backlog = 256 } = {}) {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-sink-'));
  chmodSync(dir, 0o777); // smtp-sink drops to `nobody` before it writes dumps
  const child = spawn(
    SMTP_SINK,
    ['-u', 'nobody', '-c', '-d', path.join(dir, 'm.'), `127.0.0.1:${port}`, String(backlog)],
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
    rmSync(dir, { recursive: true, force: true });
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
    /** The dump files: how many, and the Message-Id of each (null where a file has none). */
    dumps: () =>
      readdirSync(dir).map((name) => {
        const head = readFileSync(path.join(dir, name), 'latin1').slice(0, 4096);
        return /^Message-Id:\s*(\S+)/im.exec(head)?.[1] ?? null;
      }),
    stderr: () => stderr,
    stop,
  };
}
