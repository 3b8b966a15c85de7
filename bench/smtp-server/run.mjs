#!/usr/bin/env node
// SMTP server benchmark: our @mta/smtp-server against nodemailer's smtp-server, both with a
// handler that reads and discards each message, driven by Postfix's smtp-source. The server
// under test and smtp-source are pinned to different CPUs; runs are interleaved and the median
// of each column is shown, every run printed below the table.
// Run from the repository root:  flock /tmp/bench.lock node bench/smtp-server/run.mjs  [--quick]
// See bench/README.md. Prints a table; not a test.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const quick = process.argv.includes('--quick');
const argValue = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
/**
 * --only 0,2: just those rows (0-based); --runs N: runs per implementation and row, interleaved
 * (default 5, 3 with --quick; the median counts, every run is printed);
 * --no-idle: skip the idle-connection memory measurement; --quick: a fifth of the messages;
 * --cpus S,C: the CPU of the server under test and the CPU of smtp-source (and of this script),
 * default 0,1; --no-pin: let the scheduler place them.
 */
const only = argValue('--only', null)?.split(',').map(Number) ?? null;
const runsPerRow = Number(argValue('--runs', quick ? '3' : '5'));
const skipIdle = process.argv.includes('--no-idle');
const SMTP_SOURCE = '/usr/sbin/smtp-source';

// ---- CPU pinning: the server under test alone on one CPU, the load generator on another --------
// Without it the scheduler moves the single-threaded server and smtp-source between the cores and
// sometimes runs both on one, so the same row measures different things from run to run.
const [serverCpu, clientCpu] = argValue('--cpus', '0,1').split(',');
const pin = !process.argv.includes('--no-pin') && os.availableParallelism() >= 2 && hasTaskset();
function hasTaskset() {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
/** `[command, args]` run on `cpu` through taskset when pinning. */
const pinned = (cpu, command, args) => (pin ? ['taskset', ['-c', cpu, command, ...args]] : [command, args]);
// This script (it only waits) keeps to the load generator's CPU, all its threads included.
if (pin) execFileSync('taskset', ['-a', '-p', '-c', clientCpu, String(process.pid)], { stdio: 'ignore' });

// ---- build our server into one ESM file (TypeScript, workspace path aliases) ------------------
const buildDir = mkdtempSync(path.join(os.tmpdir(), 'smtp-bench-'));
const bundle = path.join(buildDir, 'ours.mjs');
process.on('exit', () => rmSync(buildDir, { recursive: true, force: true }));
await build({
  input: path.join(root, 'libs/smtp/server/src/index.ts'),
  platform: 'node',
  tsconfig: path.join(root, 'tsconfig.base.json'),
  output: { file: bundle, format: 'esm' },
  logLevel: 'silent',
});

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startServer(impl, delay) {
  const port = await freePort();
  const [command, args] = pinned(serverCpu, process.execPath, [
    '--expose-gc',
    path.join(here, 'server.mjs'),
    impl,
    String(port),
    String(delay),
    bundle,
  ]);
  // spawn with an 'ipc' channel is fork() through taskset: the channel fd survives its exec.
  const child = spawn(command, args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'json',
  });
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${impl} server exited with ${code}`)));
  });
  const stats = () =>
    new Promise((resolve) => {
      child.once('message', resolve);
      child.send('stats');
    });
  const stop = () => new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGKILL')));
  return { port, stats, stop };
}

function smtpSource(args) {
  return new Promise((resolve, reject) => {
    const [command, argv] = pinned(clientCpu, SMTP_SOURCE, args);
    const p = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`smtp-source ${args.join(' ')}: ${err}`)),
    );
  });
}

/** One row for one implementation: messages/s, CPU per message, peak RSS. */
async function measure(impl, row) {
  const server = await startServer(impl, row.delay);
  const args = ['-s', String(row.sessions), '-m', String(row.messages), '-l', String(row.size)];
  if (row.reuse) args.push('-d');
  args.push('-f', 'bench@client.test', '-t', 'sink@bench.test', `127.0.0.1:${server.port}`);
  // Warm-up with the row's own shape (10% of its messages, at least 5), so the JIT has compiled
  // the path being measured before the clock starts.
  const warm = [
    '-s',
    String(Math.min(row.sessions, 5)),
    '-m',
    String(Math.max(5, Math.round(row.messages / 10))),
  ];
  warm.push('-l', String(row.size), ...(row.reuse ? ['-d'] : []), `127.0.0.1:${server.port}`);
  await smtpSource(warm);
  const before = await server.stats();
  const t0 = process.hrtime.bigint();
  await smtpSource(args);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = await server.stats();
  await server.stop();
  const delivered = after.messages - before.messages;
  if (delivered !== row.messages)
    throw new Error(`${impl}: ${delivered} of ${row.messages} messages arrived`);
  const cpuUs = after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system;
  return { rate: row.messages / seconds, cpuPerMsg: cpuUs / row.messages, peakRss: after.maxRss };
}

/** Resident memory per idle connection (greeted, then silent). */
async function idleMemory(impl, count) {
  const server = await startServer(impl, 0);
  const base = (await server.stats()).rss;
  const sockets = [];
  let greeted = 0;
  await new Promise((resolve, reject) => {
    let opened = 0;
    const openMore = () => {
      // Open in waves so the listen backlog is never the limit.
      const wave = Math.min(500, count - opened);
      for (let i = 0; i < wave; i++) {
        const s = net.connect(server.port, '127.0.0.1');
        s.once('data', () => {
          greeted++;
          if (greeted === count) resolve();
          else if (greeted === opened && opened < count) openMore();
        });
        s.on('error', reject);
        sockets.push(s);
      }
      opened += wave;
    };
    openMore();
  });
  await new Promise((r) => setTimeout(r, 300));
  const rss = (await server.stats()).rss;
  sockets.forEach((s) => s.destroy());
  await server.stop();
  return (rss - base) / count;
}

const scale = quick ? 0.2 : 1;
const n = (x) => Math.max(10, Math.round(x * scale));
// [name, sessions, messages, size, reuse connections (-d), greeting delay ms]
const rows = [
  ['5 KB, 1 session, new connection per message', 1, 1000, 5120, false, 0],
  ['5 KB, 50 sessions, new connection per message', 50, 3000, 5120, false, 0],
  ['5 KB, 1 session, reused connection (-d)', 1, 3000, 5120, true, 0],
  ['5 KB, 50 sessions, reused connections (-d)', 50, 10000, 5120, true, 0],
  ['1 MB, 20 sessions, reused connections (-d)', 20, 200, 1024 * 1024, true, 0],
  ['5 KB, 1 session, new connection, 100 ms greeting delay on both', 1, 10, 5120, false, 100],
  ['5 KB, 50 sessions, new connection, 100 ms greeting delay on both', 50, 500, 5120, false, 100],
].map(([name, sessions, messages, size, reuse, delay]) => ({
  name,
  sessions,
  messages: n(messages),
  size,
  reuse,
  delay,
}));

const fmt = (x, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const mib = (b) => `${fmt(b / 1024 / 1024, 1)} MiB`;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};
console.log(
  `node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0].model}), smtp-source from Postfix`,
);
console.log(
  pin
    ? `Pinned with taskset: server under test on CPU ${serverCpu}, smtp-source and this script on CPU ${clientCpu}.`
    : 'Not pinned (--no-pin, fewer than 2 CPUs, or no taskset).',
);
console.log(
  `${runsPerRow} runs per server and row, interleaved (ours, smtp-server, ours, ...); the table shows the median of each column.`,
);
console.log(
  "Greeting delay: 0 on both unless said (smtp-server's fixed 100 ms timer patched out for those rows).\n",
);
const table = [
  '| workload | ours msg/s | smtp-server msg/s | ratio | ours CPU/msg | smtp-server CPU/msg | ours peak RSS | smtp-server peak RSS |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
const details = [];
for (const [index, row] of rows.entries()) {
  if (only && !only.includes(index)) continue;
  // Interleaved: ours, theirs, ours, theirs...; the median of each.
  const runs = { ours: [], 'smtp-server': [] };
  for (let i = 0; i < runsPerRow; i++)
    for (const impl of ['ours', 'smtp-server']) {
      const r = await measure(impl, row);
      runs[impl].push(r);
      console.error(
        `  [${index}] ${row.name}: ${impl} run ${i + 1}: ${fmt(r.rate)} msg/s, ${fmt(r.cpuPerMsg)} µs CPU/msg`,
      );
    }
  const mid = (rs) => ({
    rate: median(rs.map((r) => r.rate)),
    cpuPerMsg: median(rs.map((r) => r.cpuPerMsg)),
    peakRss: median(rs.map((r) => r.peakRss)),
  });
  const o = mid(runs.ours);
  const t = mid(runs['smtp-server']);
  const line = `| ${row.name} | ${fmt(o.rate)} | ${fmt(t.rate)} | ${fmt(o.rate / t.rate, 2)}× | ${fmt(o.cpuPerMsg)} µs | ${fmt(t.cpuPerMsg)} µs | ${mib(o.peakRss)} | ${mib(t.peakRss)} |`;
  table.push(line);
  console.error(line);
  const list = (rs, key, unit) => rs.map((r) => fmt(r[key])).join(', ') + unit;
  details.push(
    `[${index}] ${row.name}\n` +
      `    ours         ${list(runs.ours, 'rate', ' msg/s')}; ${list(runs.ours, 'cpuPerMsg', ' µs CPU/msg')}\n` +
      `    smtp-server  ${list(runs['smtp-server'], 'rate', ' msg/s')}; ${list(runs['smtp-server'], 'cpuPerMsg', ' µs CPU/msg')}\n` +
      `    ratio per pair ${runs.ours.map((r, i) => fmt(r.rate / runs['smtp-server'][i].rate, 2)).join(', ')}`,
  );
}
console.log(table.join('\n'));
console.log('\nAll runs, in run order:');
console.log(details.join('\n'));
if (skipIdle) process.exit(0);
const idle = quick ? 1000 : 5000;
const mo = await idleMemory('ours', idle);
const mt = await idleMemory('smtp-server', idle);
console.log(
  `\nIdle connections (${idle}, greeted, silent): ours ${fmt(mo / 1024, 1)} KiB/connection, smtp-server ${fmt(mt / 1024, 1)} KiB/connection (target < 64 KiB).`,
);
