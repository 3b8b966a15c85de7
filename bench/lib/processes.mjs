// Small process and socket helpers: ports, waiting, running a program to completion.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { root } from './paths.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A timer that does not keep the process alive (for races against an exit). */
export const deadline = (ms) => new Promise((r) => setTimeout(r, ms).unref());

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Polls `check` every 100 ms until it returns something truthy (a throw counts as "not yet"). */
export async function waitFor(what, check, timeoutMs) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export const portOpen = (port) =>
  new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

/** Runs a program to completion (bounded), returns { code, stdout, stderr }. */
export function run(file, args, { env, cwd, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve) => {
    const p = spawn(file, args, {
      env: env ?? process.env,
      cwd: cwd ?? root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? `signal ${signal}` : null), stdout, stderr });
    });
  });
}
