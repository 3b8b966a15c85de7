// Our services as the bench runs them: a built bundle `dist/apps/<app>/main.js` in its own
// process, production profile, stopped with SIGTERM (Nest shutdown hooks), killed if it hangs.
import { spawn } from 'node:child_process';
import fs, { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { onCleanup } from './cleanup.mjs';
import { root } from './paths.mjs';
import { deadline, freePort, portOpen, run, waitFor } from './processes.mjs';

/** Node flags for one of our processes: a V8 CPU profile into `profileDir` (if given), then `extra`. */
export function nodeFlags(profileDir, extra = []) {
  return [...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] : []), ...extra];
}

/**
 * Starts `dist/apps/<app>/main.js` with `env` on top of this process's environment (NODE_ENV
 * production, LOG_LEVEL warn unless given) and its own HEALTH_LISTEN on a free port; resolves
 * once `/readyz` answers 200 (and `smtpPort`, if given, accepts connections).
 * `stopTimeoutMs`: how long SIGTERM gets before SIGKILL. `logDir`: append the process's output to
 * `<logDir>/<name>.log`.
 */
export async function startService(
  app,
  { env = {}, execArgv = [], smtpPort, name = app, stopTimeoutMs = 15_000, logDir = null } = {},
) {
  const healthPort = await freePort();
  const child = spawn(process.execPath, [...execArgv, path.join(root, `dist/apps/${app}/main.js`)], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      HEALTH_LISTEN: `127.0.0.1:${healthPort}`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d) => {
    output = (output + d).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  if (logDir) {
    // Everything the process writes, for reading afterwards (e.g. with node --trace-gc).
    fs.mkdirSync(logDir, { recursive: true });
    const file = fs.createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a' });
    child.stdout.pipe(file);
    child.stderr.pipe(file);
  }
  let exited = false;
  let exitedAfterMs = null;
  const exit = new Promise((resolve) => child.on('exit', () => ((exited = true), resolve())));
  let killed = false;
  const stop = onCleanup(async () => {
    if (exited) return;
    const t0 = Date.now();
    child.kill('SIGTERM'); // Nest shutdown hooks; --cpu-prof writes its file on a normal exit
    await Promise.race([exit, deadline(stopTimeoutMs)]);
    if (!exited) {
      killed = true;
      child.kill('SIGKILL');
      await exit;
    }
    exitedAfterMs = Date.now() - t0;
  });
  const base = `http://127.0.0.1:${healthPort}`;
  try {
    // 60 s: on a shared 2-core machine under other load, start-up alone has taken more than 30 s.
    await waitFor(`${name} /readyz`, async () => !exited && (await fetch(`${base}/readyz`)).ok, 60_000);
    if (smtpPort) await waitFor(`${name} SMTP port`, () => portOpen(smtpPort), 10_000);
  } catch (e) {
    await stop();
    throw new Error(`${name} did not start: ${e.message}\n${output}`);
  }
  return {
    name,
    pid: child.pid,
    healthPort,
    output: () => output,
    metrics: async () => (await fetch(`${base}/metrics`)).text(),
    /** After stop(): whether SIGTERM was not enough, and how long the stop took. */
    stopInfo: () => ({ killed, ms: exitedAfterMs }),
    exited: () => exited,
    stop,
  };
}

/** Whether a service's output has error or fatal pino lines. */
export const loggedErrors = (output) => /"level":"(error|fatal)"|"level":50|"level":60/.test(output);

/** Builds `dist/apps/<app>/main.js` of each app (`nx run-many -t build`); throws with the output if it fails. */
export async function buildApps(apps) {
  process.stderr.write(`building ${apps.join(', ')}\n`);
  const built = await run('npx', ['nx', 'run-many', '-t', 'build', '-p', apps.join(',')], {
    timeoutMs: 600_000,
  });
  if (built.code !== 0)
    throw new Error(`build failed: ${built.stdout.slice(-3000)}${built.stderr.slice(-3000)}`);
}

/**
 * Lines of the services' logs that are errors, fatal, or not JSON at all (a raw stack trace),
 * counted by file, level, message and the first line of `err` (numbers and uuids masked).
 */
export function errorLogLines(logDir) {
  const bad = new Map();
  for (const name of readdirSync(logDir))
    for (const line of readFileSync(path.join(logDir, name), 'utf8').split('\n').filter(Boolean)) {
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        entry = { level: 'not JSON', msg: line.slice(0, 120) };
      }
      if (!['error', 'fatal', 50, 60, 'not JSON'].includes(entry.level)) continue;
      const err = typeof entry.err === 'object' ? entry.err?.message : entry.err;
      const text = `${entry.msg} ${String(err ?? '')
        .split('\n')[0]
        .slice(0, 100)}`;
      // Ids, ports and counts differ from line to line: one key per kind of line.
      const masked = text
        .replace(/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}/g, '<uuid>')
        .replace(/\d+/g, 'N');
      const key = `${name} ${entry.level}: ${masked}`;
      bad.set(key, (bad.get(key) ?? 0) + 1);
    }
  return bad;
}
