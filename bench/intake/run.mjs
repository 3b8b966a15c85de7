#!/usr/bin/env node
// Intake accept benchmark (issue #4): how many 5 KB messages per second `mx` accepts durably
// (PostgreSQL commit + BullMQ `accepted` job before the 250), against a private Postfix on the
// same machine (queue files fsynced, then discarded), at 1 and 50 concurrent sessions.
// Run from the repository root:  node bench/intake/run.mjs  [--runs 3] [--seconds 5] [--quick]
// See bench/README.md. Prints a table; not a test.
import { spawn, execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const requireRoot = createRequire(path.join(root, 'package.json'));

const argValue = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const quick = process.argv.includes('--quick');
/** Runs per implementation and row, interleaved (ours, postfix, ours, ...); the median counts. */
const RUNS = Number(argValue('--runs', quick ? '1' : '3'));
/** Target length of one measured smtp-source run; the message count is sized from a calibration run. */
const SECONDS = Number(argValue('--seconds', quick ? '2' : '5'));
/** Length of each latency-client run (per implementation and row). */
const LATENCY_SECONDS = Number(argValue('--latency-seconds', quick ? '2' : '4'));
/** Write a V8 CPU profile of the mx process into this directory (node --cpu-prof). */
const PROFILE_DIR = argValue('--cpu-prof-dir', null);
const SKIP_BUILD = process.argv.includes('--no-build');
const SESSIONS = (argValue('--sessions', '1,50') ?? '1,50').split(',').map(Number);

const SMTP_SOURCE = '/usr/sbin/smtp-source';
const POSTFIX = '/usr/sbin/postfix';
const SIZE = 5120;
const SENDER = 'sender@remote.example';
const RCPT = 'rcpt@bench.example';
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const MAX_MESSAGES_PER_RUN = 20_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** A timer that does not keep the process alive (for races against an exit). */
const deadline = (ms) => new Promise((r) => setTimeout(r, ms).unref());
const fmt = (x, d = 0) =>
  Number.isFinite(x)
    ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
    : 'n/a';
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const percentile = (xs, q) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};

// ---- small process helpers ----------------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitFor(what, check, timeoutMs) {
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

const portOpen = (port) =>
  new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

/** Runs a program to completion (bounded), returns { code, stdout, stderr }. */
function run(file, args, { env, cwd, timeoutMs = 120_000 } = {}) {
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

/** utime + stime of one process, in seconds; 0 if it is gone. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** Summed CPU seconds of every live process whose comm starts with `name` (e.g. postgres). */
function cpuSecondsByName(name) {
  let total = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').startsWith(name)) total += cpuSeconds(d);
    } catch {
      /* exited */
    }
  }
  return total;
}

/** Busy and total CPU seconds of the whole machine (all cores), from /proc/stat. */
function machineCpu() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = f[3] + f[4];
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

/**
 * CPU seconds of a Postfix instance: its master (own time plus its reaped children, which is
 * where smtpd and cleanup processes that exited are accounted) and every live child of it.
 */
function postfixCpuSeconds(masterPid) {
  if (!masterPid) return 0;
  let total = 0;
  try {
    const stat = readFileSync(`/proc/${masterPid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    total += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK;
  } catch {
    return 0;
  }
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === masterPid) total += (Number(f[11]) + Number(f[12])) / CLK_TCK;
    } catch {
      /* exited */
    }
  }
  return total;
}

function statusKb(pid, field) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

// ---- resources, cleaned up at exit ---------------------------------------------------------------

const cleanups = [];
let cleaning = false;
async function cleanup() {
  if (cleaning) return;
  cleaning = true;
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch (e) {
      console.error(`cleanup: ${e instanceof Error ? e.message : e}`);
    }
  }
}
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    console.error(`\n${sig}: cleaning up`);
    cleanup().finally(() => process.exit(130));
  });

// ---- our side: database, Redis prefix, the mx process -------------------------------------------

const stamp = `${Date.now().toString(36)}_${process.pid}`;
const DB_NAME = `bench_intake_${stamp}`;
const DATABASE_URL = `postgresql://postgres@127.0.0.1:5432/${DB_NAME}`;
const REDIS_URL = 'redis://127.0.0.1:6379';
const REDIS_PREFIX = `bench-intake-${stamp}`;

async function setupDatabase() {
  cleanups.push(dropDatabase);
  const migrated = await run('npm', ['run', 'db:migrate'], {
    env: { ...process.env, DATABASE_URL, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
  });
  if (migrated.code !== 0) throw new Error(`db:migrate failed: ${migrated.stdout}${migrated.stderr}`);
  const pg = requireRoot('pg');
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query(
      "insert into domains (name, type) values ('bench.example', 'local') returning id",
    );
    await client.query('insert into accounts (address, password_hash, domain_id) values ($1, $2, $3)', [
      RCPT,
      '$scrypt$bench-not-a-password',
      rows[0].id,
    ]);
  } finally {
    await client.end();
  }
}

async function dropDatabase() {
  const pg = requireRoot('pg');
  const client = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' });
  await client.connect();
  try {
    await client.query(`drop database if exists "${DB_NAME}" with (force)`);
  } finally {
    await client.end();
  }
}

async function deleteRedisKeys() {
  const { default: Redis } = await import(requireRoot.resolve('ioredis'));
  const RedisCtor = Redis.Redis ?? Redis;
  const redis = new RedisCtor(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    for (let i = 0; i < 100_000; i++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${REDIS_PREFIX}:*`, 'COUNT', 1000);
      if (keys.length) deleted += await redis.del(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
  } finally {
    redis.disconnect();
  }
  return deleted;
}

async function startMx() {
  const port = await freePort();
  const healthPort = await freePort();
  const execArgv = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(PROFILE_DIR)}`] : [];
  const child = spawn(process.execPath, [...execArgv, path.join(root, 'dist/apps/mx/main.js')], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL,
      REDIS_URL,
      REDIS_PREFIX,
      MX_LISTEN: `127.0.0.1:${port}`,
      HEALTH_LISTEN: `127.0.0.1:${healthPort}`,
      MTA_HOSTNAME: 'mx.bench.example',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d) => {
    output = (output + d).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = false;
  const exit = new Promise((resolve) => child.on('exit', () => ((exited = true), resolve())));
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM'); // Nest shutdown hooks; --cpu-prof writes its file on a normal exit
    await Promise.race([exit, deadline(15_000)]);
    if (!exited) {
      child.kill('SIGKILL');
      await exit;
    }
  };
  cleanups.push(stop);
  const base = `http://127.0.0.1:${healthPort}`;
  try {
    await waitFor('mx /readyz', async () => !exited && (await fetch(`${base}/readyz`)).ok, 30_000);
    await waitFor('mx SMTP port', () => portOpen(port), 10_000);
  } catch (e) {
    throw new Error(`mx did not start: ${e.message}\n${output}`);
  }
  return {
    name: 'ours',
    port,
    pid: child.pid,
    output: () => output,
    metrics: async () => (await fetch(`${base}/metrics`)).text(),
    stop,
  };
}

// ---- Postfix: a private instance, discard transport ----------------------------------------------

function postfixMainCf(dir, etc) {
  return `compatibility_level = 3.6
queue_directory = ${dir}/spool
data_directory = ${dir}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.bench.example
mydomain = bench.example
myorigin = $myhostname
mydestination = bench.example
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks, reject
# Recipient validation like ours (only known mailboxes), from an in-memory table.
local_recipient_maps = inline:{ ${RCPT}=ok }
local_transport = discard:
default_transport = discard:
relay_transport = discard:
alias_maps =
alias_database =
biff = no
smtpd_banner = $myhostname ESMTP
maillog_file = ${dir}/maillog
maillog_file_prefixes = ${dir}
shlib_directory = /usr/lib/postfix
daemon_directory = /usr/lib/postfix/sbin
command_directory = /usr/sbin
meta_directory = /etc/postfix
`;
}

function postfixMasterCf(port) {
  return `127.0.0.1:${port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`;
}

async function startPostfix() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-postfix-'));
  chmodSync(dir, 0o755); // the daemons run as `postfix` and must reach the queue
  const etc = path.join(dir, 'etc');
  const data = path.join(dir, 'data');
  for (const d of [etc, data, path.join(dir, 'spool')]) mkdirSync(d, { recursive: true });
  const uid = Number(execFileSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).trim());
  chownSync(data, uid, -1);
  const port = await freePort();
  writeFileSync(path.join(etc, 'main.cf'), postfixMainCf(dir, etc));
  writeFileSync(path.join(etc, 'master.cf'), postfixMasterCf(port));
  const checked = await run(POSTFIX, ['-c', etc, 'check']);
  if (checked.code !== 0) throw new Error(`postfix check: ${checked.stdout}${checked.stderr}`);
  const child = spawn(POSTFIX, ['-c', etc, 'start-fg'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output = (output + d).slice(-20_000)));
  child.stderr.on('data', (d) => (output = (output + d).slice(-20_000)));
  let exited = false;
  const exit = new Promise((resolve) => child.on('exit', () => ((exited = true), resolve())));
  const maillog = path.join(dir, 'maillog');
  const stop = async () => {
    await run(POSTFIX, ['-c', etc, 'stop'], { timeoutMs: 20_000 });
    await Promise.race([exit, deadline(10_000)]);
    if (!exited) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.push(stop);
  try {
    await waitFor('postfix smtpd port', async () => !exited && (await portOpen(port)), 20_000);
  } catch (e) {
    const log = existsSync(maillog) ? readFileSync(maillog, 'utf8') : '';
    throw new Error(`postfix did not start: ${e.message}\n${output}\n${log}`);
  }
  return {
    name: 'postfix',
    port,
    etc,
    masterPid: () => {
      try {
        return Number(readFileSync(path.join(dir, 'spool/pid/master.pid'), 'utf8').trim());
      } catch {
        return 0;
      }
    },
    maillog: () => (existsSync(maillog) ? readFileSync(maillog, 'utf8') : ''),
    queueEmpty: async () =>
      /Mail queue is empty/.test((await run('/usr/sbin/postqueue', ['-c', etc, '-p'])).stdout),
    stop,
  };
}

// ---- load: smtp-source, and our own latency client -----------------------------------------------

/** smtp-source over reused connections (-d): each of `sessions` connections sends message after message. */
async function smtpSource(port, sessions, messages) {
  const args = ['-s', String(sessions), '-m', String(messages), '-l', String(SIZE), '-d'];
  args.push('-f', SENDER, '-t', RCPT, `127.0.0.1:${port}`);
  const t0 = process.hrtime.bigint();
  const r = await run(SMTP_SOURCE, args, { timeoutMs: 180_000 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.code !== 0 || r.stderr.trim())
    throw new Error(`smtp-source ${args.join(' ')} → ${r.code}: ${r.stderr.slice(0, 2000)}`);
  return seconds;
}

/** A 5 KB message like smtp-source's: a few header fields, then 78-character lines, CRLF, no dots. */
function message(n) {
  const head =
    `From: <${SENDER}>\r\nTo: <${RCPT}>\r\nSubject: latency probe ${n}\r\n` +
    `Message-ID: <${stamp}.${n}@remote.example>\r\nDate: ${new Date().toUTCString()}\r\n\r\n`;
  let body = '';
  while (head.length + body.length + 80 <= SIZE) body += `${'X'.repeat(78)}\r\n`;
  body += `${'X'.repeat(Math.max(0, SIZE - head.length - body.length - 2))}\r\n`;
  return Buffer.from(head + body);
}

/**
 * One SMTP session over a plain socket (no library, no pipelining): EHLO once, then
 * MAIL/RCPT/DATA/message/"." until `until` (or `max` messages). For each message, the time
 * from writing the final ".\r\n" to reading the whole 250 reply, in milliseconds.
 */
function latencySession(port, until, max, first) {
  return new Promise((resolve) => {
    const samples = [];
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    let buffer = '';
    let waiting = null;
    let lines = [];
    let error = null;
    const finish = (err) => {
      if (err && !error) error = err;
      socket.destroy();
      resolve({ samples, error });
    };
    socket.on('error', (e) => finish(e.message));
    socket.on('close', () => finish(waiting ? 'connection closed' : null));
    socket.on('data', (d) => {
      buffer += d.toString('latin1');
      let i;
      while ((i = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        lines.push(line);
        if (line[3] !== '-') {
          const reply = lines;
          lines = [];
          const w = waiting;
          waiting = null;
          w?.(reply);
        }
      }
    });
    const reply = () => new Promise((r) => (waiting = r));
    const expect = async (code, what) => {
      const r = await reply();
      if (!r[r.length - 1].startsWith(code)) throw new Error(`${what}: ${r.join(' | ')}`);
      return r;
    };
    (async () => {
      await expect('220', 'greeting');
      socket.write('EHLO latency.client.example\r\n');
      await expect('250', 'EHLO');
      for (let n = 0; n < max && Date.now() < until; n++) {
        socket.write(`MAIL FROM:<${SENDER}>\r\n`);
        await expect('250', 'MAIL');
        socket.write(`RCPT TO:<${RCPT}>\r\n`);
        await expect('250', 'RCPT');
        socket.write('DATA\r\n');
        await expect('354', 'DATA');
        socket.write(message(first + n));
        const done = expect('250', 'end of data');
        const t0 = process.hrtime.bigint();
        socket.write('.\r\n');
        await done;
        samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      socket.write('QUIT\r\n');
      await expect('221', 'QUIT');
      finish(null);
    })().catch((e) => finish(e.message));
  });
}

async function latencyRun(port, sessions, seconds) {
  const until = Date.now() + seconds * 1000;
  const max = 100_000;
  const t0 = process.hrtime.bigint();
  const results = await Promise.all(
    Array.from({ length: sessions }, (_, i) => latencySession(port, until, max, i * max)),
  );
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const samples = results.flatMap((r) => r.samples);
  const errors = results.map((r) => r.error).filter(Boolean);
  if (errors.length) throw new Error(`latency client: ${errors.length} sessions failed: ${errors[0]}`);
  return { samples, rate: samples.length / wall };
}

// ---- Prometheus histogram of our store time ------------------------------------------------------

function parseMetrics(text) {
  const buckets = new Map();
  let accepted = 0;
  for (const line of text.split('\n')) {
    let m = line.match(/^mta_intake_store_seconds_bucket\{le="([^"]+)",service="mx"\} (\S+)/);
    if (m) buckets.set(m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2]));
    m = line.match(/^mta_intake_transactions_total\{service="mx",result="accepted"[^}]*\} (\S+)/);
    if (m) accepted += Number(m[1]);
  }
  return { buckets, accepted };
}

const diffBuckets = (after, before) =>
  new Map([...after.buckets].map(([le, c]) => [le, c - (before.buckets.get(le) ?? 0)]));
const addBuckets = (a, b) => new Map([...b].map(([le, c]) => [le, c + (a.get(le) ?? 0)]));

/** Prometheus' histogram_quantile: linear interpolation inside the bucket holding the rank. */
function histogramQuantile(q, buckets) {
  const les = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Infinity) ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const le of les) {
    const count = buckets.get(le);
    if (count >= rank) {
      if (le === Infinity) return prevLe; // as Prometheus: the highest finite bound
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(1e-12, count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return NaN;
}

// ---- one measured smtp-source run ----------------------------------------------------------------

async function measure(server, sessions, messages) {
  const isOurs = server.name === 'ours';
  const before = isOurs ? parseMetrics(await server.metrics()) : null;
  const master = isOurs ? 0 : server.masterPid();
  const machine0 = machineCpu();
  const cpu0 = {
    node: isOurs ? cpuSeconds(server.pid) : 0,
    postfix: postfixCpuSeconds(master),
    pg: cpuSecondsByName('postgres'),
    redis: cpuSecondsByName('redis-server'),
  };
  let peakRssKb = 0;
  const sampler = isOurs
    ? setInterval(() => (peakRssKb = Math.max(peakRssKb, statusKb(server.pid, 'VmRSS'))), 100)
    : null;
  let seconds;
  try {
    seconds = await smtpSource(server.port, sessions, messages);
  } finally {
    if (sampler) clearInterval(sampler);
  }
  const machine1 = machineCpu();
  const cpu = {
    machine: machine1.busy - machine0.busy,
    node: (isOurs ? cpuSeconds(server.pid) : 0) - cpu0.node,
    postfix: postfixCpuSeconds(master) - cpu0.postfix,
    pg: cpuSecondsByName('postgres') - cpu0.pg,
    redis: cpuSecondsByName('redis-server') - cpu0.redis,
  };
  const result = { rate: messages / seconds, seconds, messages, cpu, peakRssKb };
  if (isOurs) {
    const after = parseMetrics(await server.metrics());
    const accepted = after.accepted - before.accepted;
    if (accepted !== messages) throw new Error(`ours: ${accepted} of ${messages} messages accepted`);
    result.buckets = diffBuckets(after, before);
  }
  return result;
}

// ---- main ----------------------------------------------------------------------------------------

async function main() {
  for (const bin of [SMTP_SOURCE, POSTFIX])
    if (!existsSync(bin)) throw new Error(`${bin} is missing: apt-get install postfix`);
  if (process.getuid?.() !== 0) throw new Error('run as root: the private Postfix drops to the postfix user');

  const started = Date.now();
  const load0 = os.loadavg();
  if (!SKIP_BUILD) {
    process.stderr.write('building mx (nx run mx:build)...\n');
    const built = await run('npx', ['nx', 'run', 'mx:build'], {
      env: { ...process.env, NX_DAEMON: 'false' },
      timeoutMs: 300_000,
    });
    if (built.code !== 0) throw new Error(`build failed: ${built.stdout}${built.stderr}`);
  }
  if (!existsSync(path.join(root, 'dist/apps/mx/main.js'))) throw new Error('dist/apps/mx/main.js missing');

  process.stderr.write(`database ${DB_NAME}, Redis prefix ${REDIS_PREFIX}: migrating...\n`);
  cleanups.push(async () => {
    const n = await deleteRedisKeys();
    process.stderr.write(`deleted ${n} Redis keys under ${REDIS_PREFIX}:*\n`);
  });
  await setupDatabase();
  const ours = await startMx();
  const postfix = await startPostfix();
  let sentToPostfix = 0;
  process.stderr.write(
    `mx on 127.0.0.1:${ours.port} (pid ${ours.pid}), postfix on 127.0.0.1:${postfix.port}\n`,
  );

  // Warm-up: JIT, connection pools, Postfix's process pool.
  for (const server of [ours, postfix]) {
    await smtpSource(server.port, 10, 200);
    if (server === postfix) sentToPostfix += 200;
  }

  const rows = [];
  for (const sessions of SESSIONS) {
    // Calibration (not counted): size each side's runs to last about SECONDS.
    const size = {};
    for (const server of [ours, postfix]) {
      const m0 = Math.max(20, sessions * 5);
      const s = await smtpSource(server.port, sessions, m0);
      if (server === postfix) sentToPostfix += m0;
      const m = Math.round(((m0 / s) * SECONDS) / sessions) * sessions;
      size[server.name] = Math.min(MAX_MESSAGES_PER_RUN, Math.max(sessions * 4, 20, m));
    }
    const runs = { ours: [], postfix: [] };
    for (let i = 0; i < RUNS; i++)
      for (const server of [ours, postfix]) {
        runs[server.name].push(await measure(server, sessions, size[server.name]));
        if (server === postfix) sentToPostfix += size.postfix;
        process.stderr.write(
          `  ${sessions} sessions, ${server.name} run ${i + 1}: ${fmt(runs[server.name].at(-1).rate)} msg/s\n`,
        );
      }
    // Latency with our own client (separate runs: smtp-source does not report per-message times).
    const latency = {};
    for (const server of [ours, postfix]) {
      const before = server === ours ? parseMetrics(await ours.metrics()) : null;
      const l = await latencyRun(server.port, sessions, LATENCY_SECONDS);
      if (server === postfix) sentToPostfix += l.samples.length;
      else l.histP99 = histogramQuantile(0.99, diffBuckets(parseMetrics(await ours.metrics()), before));
      latency[server.name] = l;
      process.stderr.write(
        `  ${sessions} sessions, ${server.name} latency client: ${l.samples.length} messages, p99 ${fmt(percentile(l.samples, 0.99), 1)} ms\n`,
      );
    }
    rows.push({ sessions, size, runs, latency });
  }

  // Did Postfix really accept everything? Wait for its queue to drain into the discard transport.
  let drained = false;
  for (let i = 0; i < 100 && !drained; i++) {
    drained = await postfix.queueEmpty();
    if (!drained) await sleep(200);
  }
  const log = postfix.maillog();
  const discarded = (log.match(/ status=sent /g) ?? []).length;
  const rejected = (log.match(/NOQUEUE: reject/g) ?? []).length;
  const mxPeakKb = statusKb(ours.pid, 'VmHWM');
  const oursOutput = ours.output();

  // ---- print -----------------------------------------------------------------------------------
  const load1 = os.loadavg();
  console.log(
    `\nnode ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0].model}), load average ${load0
      .map((x) => x.toFixed(2))
      .join(' ')} at start, ${load1.map((x) => x.toFixed(2)).join(' ')} at end`,
  );
  console.log(
    `5,120-byte messages, 1 recipient (${RCPT}, a known account), smtp-source -d: each session reuses its ` +
      `connection for message after message. ${RUNS} interleaved run(s) per side and row (ours, postfix, ...), ` +
      `each sized to ~${SECONDS} s; medians shown.`,
  );
  console.log(
    'ours: dist/apps/mx/main.js, NODE_ENV=production LOG_LEVEL=warn, fresh PostgreSQL database (one transaction ' +
      'per message) + BullMQ `accepted` job before each 250. postfix: private instance, queue files fsynced by ' +
      'cleanup, then the discard transport.\n',
  );
  console.log(
    '| sessions | ours msg/s | postfix msg/s | ours/postfix | ours p99 250-after-dot (client) | ours p99 store (histogram, interpolated) | postfix p99 250-after-dot (client) | ours p50 / postfix p50 (client) |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const o = median(r.runs.ours.map((x) => x.rate));
    const p = median(r.runs.postfix.map((x) => x.rate));
    const hist = r.runs.ours.reduce((acc, x) => addBuckets(acc, x.buckets), new Map());
    const lo = r.latency.ours.samples;
    const lp = r.latency.postfix.samples;
    console.log(
      `| ${r.sessions} | ${fmt(o)} | ${fmt(p)} | ${fmt(o / p, 2)}× | ${fmt(percentile(lo, 0.99), 1)} ms (n=${lo.length}) | ` +
        `${fmt(histogramQuantile(0.99, hist) * 1000, 1)} ms (n=${hist.get(Infinity)}) | ${fmt(percentile(lp, 0.99), 1)} ms (n=${lp.length}) | ` +
        `${fmt(percentile(lo, 0.5), 1)} / ${fmt(percentile(lp, 0.5), 1)} ms |`,
    );
  }
  console.log('\nPer run (msg/s), messages per run, and where the CPU went during our runs:\n');
  console.log(
    '| sessions | ours runs | postfix runs | ours msgs/run | postfix msgs/run | mx CPU/msg | mx+PostgreSQL+Redis CPU/msg | Postfix CPU/msg | mx CPU | PostgreSQL CPU | Redis CPU | machine busy (ours / postfix runs) | mx peak RSS in row |',
  );
  console.log('| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const o = r.runs.ours;
    const sum = (k) => o.reduce((a, x) => a + x.cpu[k], 0);
    const wall = o.reduce((a, x) => a + x.seconds, 0);
    const msgs = o.reduce((a, x) => a + x.messages, 0);
    const pct = (k) => `${fmt((100 * sum(k)) / wall)} %`;
    const pf = r.runs.postfix;
    const pfMsgs = pf.reduce((a, x) => a + x.messages, 0);
    const pfWall = pf.reduce((a, x) => a + x.seconds, 0);
    const pfCpu = pf.reduce((a, x) => a + x.cpu.postfix, 0);
    const pfMachine = pf.reduce((a, x) => a + x.cpu.machine, 0);
    const stack = sum('node') + sum('pg') + sum('redis');
    console.log(
      `| ${r.sessions} | ${o.map((x) => fmt(x.rate)).join(', ')} | ${r.runs.postfix.map((x) => fmt(x.rate)).join(', ')} | ` +
        `${r.size.ours} | ${r.size.postfix} | ${fmt((1000 * sum('node')) / msgs, 2)} ms | ${fmt((1000 * stack) / msgs, 2)} ms | ` +
        `${fmt((1000 * pfCpu) / pfMsgs, 2)} ms | ${pct('node')} | ${pct('pg')} | ${pct('redis')} | ` +
        `${fmt((100 * sum('machine')) / wall)} % / ${fmt((100 * pfMachine) / pfWall)} % | ` +
        `${fmt(Math.max(...o.map((x) => x.peakRssKb)) / 1024, 0)} MiB |`,
    );
  }
  console.log(
    `\nCPU % is of one core over the wall time of our smtp-source runs (${os.cpus().length} cores: 200 % is the machine); ` +
      'PostgreSQL and Redis are every process of that name on the machine; Postfix CPU is its master, its children ' +
      'and their reaped children (smtpd, cleanup, qmgr, discard...). Machine busy: all processes on the machine, ' +
      'including smtp-source and anything else running.',
  );
  console.log(
    `Latency client: our own net-socket client, one message at a time per session (no pipelining), ${LATENCY_SECONDS} s per row and side; ` +
      'time from writing the final ".\\r\\n" to the whole 250 reply. Histogram: mta_intake_store_seconds over our smtp-source runs ' +
      '(end of data → commit + enqueue), p99 interpolated inside its bucket like histogram_quantile.',
  );
  for (const r of rows)
    console.log(
      `  ${r.sessions} session(s): during the latency client run the histogram p99 was ${fmt(r.latency.ours.histP99 * 1000, 1)} ms; ` +
        `latency-client throughput ours ${fmt(r.latency.ours.rate)} msg/s, postfix ${fmt(r.latency.postfix.rate)} msg/s.`,
    );
  console.log(
    `mx peak RSS over the whole run (VmHWM): ${fmt(mxPeakKb / 1024)} MiB. Postfix: ${sentToPostfix} messages sent, ` +
      `${discarded} delivered to discard (status=sent), ${rejected} rejected, queue ${drained ? 'empty' : 'NOT empty'} at the end.`,
  );
  if (discarded !== sentToPostfix || rejected > 0)
    console.log('WARNING: Postfix did not accept and discard every message: its numbers are suspect.');
  if (/"level":"(error|fatal)"|"level":50|"level":60/.test(oursOutput))
    console.log(`WARNING: mx logged errors:\n${oursOutput.slice(-3000)}`);
  console.log(`Total time ${fmt((Date.now() - started) / 1000)} s.`);
}

try {
  await main();
} catch (e) {
  console.error(`bench/intake: ${e instanceof Error ? e.stack : e}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
