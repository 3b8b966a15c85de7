#!/usr/bin/env node
// Intake accept benchmark (issue #4): how many 5 KB messages per second `mx` accepts durably
// (PostgreSQL commit before the 250, the BullMQ `accepted` job after it), against a private Postfix on the
// same machine (queue files fsynced, then discarded), at 1 and 50 concurrent sessions.
// Run from the repository root:  node bench/intake/run.mjs  [--runs 3] [--seconds 5] [--quick]
// With --policy: mx with every inbound check on (SPF, DKIM, DMARC, ARC, DNSBL/DNSWL, greylisting,
// rate limits; DKIM-signed messages, DNS from a loopback dnsmasq, the policy service running),
// the same mx with the checks off, and Postfix without checks, in one run.
// See bench/README.md. Prints a table; not a test.
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { argValue, argWords, hasFlag } from '../lib/args.mjs';
import { cleanup, onCleanup } from '../lib/cleanup.mjs';
import { databaseUrl, dropDatabase, migrateDatabase, withDatabase } from '../lib/database.mjs';
import { fmt, median, percentile } from '../lib/numbers.mjs';
import { root } from '../lib/paths.mjs';
import { POSTFIX, baseMainCf, baseMasterCf, startPostfix as startPrivatePostfix } from '../lib/postfix.mjs';
import { cpuSeconds, familyCpuSeconds, machineCpu, serverCpuSeconds, statusKb } from '../lib/proc-cpu.mjs';
import { freePort, run, sleep } from '../lib/processes.mjs';
import { REDIS_URL, deleteRedisKeys } from '../lib/redis.mjs';
import { loggedErrors, nodeFlags, startService } from '../lib/services.mjs';
import { SMTP_SOURCE, smtpSource as runSmtpSource } from '../lib/smtp-source.mjs';
import {
  HELO,
  plainEnv,
  policyEnv,
  primeGreylist,
  signedTemplate,
  startPolicyDns,
  storedAuthenticationResults,
} from './policy.mjs';

const quick = hasFlag('--quick');
/** Runs per implementation and row, interleaved (ours, postfix, ours, ...); the median counts. */
const RUNS = Number(argValue('--runs', quick ? '1' : '3'));
/** Target length of one measured smtp-source run; the message count is sized from a calibration run. */
const SECONDS = Number(argValue('--seconds', quick ? '2' : '5'));
/** Length of each latency-client run (per implementation and row). */
const LATENCY_SECONDS = Number(argValue('--latency-seconds', quick ? '2' : '4'));
/** Write a V8 CPU profile of the mx process into this directory (node --cpu-prof). */
const PROFILE_DIR = argValue('--cpu-prof-dir', null);
/** Extra flags for the mx process's node (e.g. V8 heap sizes), space-separated. */
const MX_NODE_ARGS = argWords('--mx-node-args');
/** Append mx's output to <dir>/mx.log (e.g. with --mx-node-args "--trace-gc"). */
const LOG_DIR = argValue('--service-log-dir', null);
/**
 * Also time the 250 at fixed offered loads (open loop): every session sends one message every
 * `sessions / rate` seconds, so the server is not driven to saturation. Aggregate msg/s; a
 * comma-separated list (e.g. 200,400,800) runs each rate in turn, to find how much load each
 * side takes with its p99 still under a bound.
 */
const PACED_RATES = (argValue('--paced-rate', '') ?? '')
  .split(',')
  .map(Number)
  .filter((r) => r > 0);
const SKIP_BUILD = hasFlag('--no-build');
const SESSIONS = (argValue('--sessions', '1,50') ?? '1,50').split(',').map(Number);
/** mx with every inbound check on, against the same mx without them and Postfix (bench/intake/policy.mjs). */
const POLICY = hasFlag('--policy') || hasFlag('--policy-parts');
/** Which checks the checking mx runs: all, inbound (SPF/DKIM/ARC/DMARC) or service (DNSBL, greylisting, rates). */
const POLICY_PARTS = argValue('--policy-parts', 'all');
if (!['all', 'inbound', 'service'].includes(POLICY_PARTS))
  throw new Error('--policy-parts: all, inbound or service');

const SIZE = 5120;
const SENDER = 'sender@remote.example';
const RCPT = 'rcpt@bench.example';
const MAX_MESSAGES_PER_RUN = 20_000;

// ---- our side: database, Redis prefix, the mx process -------------------------------------------

const stamp = `${Date.now().toString(36)}_${process.pid}`;
const DB_NAME = `bench_intake_${stamp}`;
const DATABASE_URL = databaseUrl(DB_NAME);
const REDIS_PREFIX = `bench-intake-${stamp}`;

async function setupDatabase() {
  onCleanup(() => dropDatabase(DB_NAME));
  await migrateDatabase(DB_NAME);
  await withDatabase(DB_NAME, async (client) => {
    const { rows } = await client.query(
      "insert into domains (name, type) values ('bench.example', 'local') returning id",
    );
    await client.query('insert into accounts (address, password_hash, domain_id) values ($1, $2, $3)', [
      RCPT,
      '$scrypt$bench-not-a-password',
      rows[0].id,
    ]);
  });
}

async function startMx(name = 'ours', extraEnv = {}) {
  const port = await freePort();
  const execArgv = nodeFlags(PROFILE_DIR, MX_NODE_ARGS);
  const mx = await startService('mx', {
    name: name === 'ours' ? 'mx' : `mx-${name}`,
    logDir: LOG_DIR,
    execArgv,
    smtpPort: port,
    env: {
      DATABASE_URL,
      REDIS_URL,
      REDIS_PREFIX,
      MX_LISTEN: `127.0.0.1:${port}`,
      MTA_HOSTNAME: 'mx.bench.example',
      ...extraEnv,
    },
  });
  return { ...mx, name, kind: 'ours', port };
}

/** The policy service (DNSBL/DNSWL, greylisting, rate limits), answering mx over the `policy` queue. */
async function startPolicyService(extraEnv) {
  return startService('policy', {
    logDir: LOG_DIR,
    env: { DATABASE_URL, REDIS_URL, REDIS_PREFIX, MTA_HOSTNAME: 'mx.bench.example', ...extraEnv },
  });
}

// ---- Postfix: a private instance, discard transport ----------------------------------------------

function postfixMainCf(dir) {
  return `${baseMainCf(dir)}myhostname = postfix.bench.example
mydomain = bench.example
myorigin = $myhostname
mydestination = bench.example
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks, reject
# Recipient validation like ours (only known mailboxes), from an in-memory table.
local_recipient_maps = inline:{ ${RCPT}=ok }
local_transport = discard:
default_transport = discard:
relay_transport = discard:
`;
}

function postfixMasterCf(port) {
  return `${baseMasterCf(port)}discard   unix  - - n - - discard
`;
}

const startPostfix = () => startPrivatePostfix({ mainCf: postfixMainCf, masterCf: postfixMasterCf });
const postfixCpuSeconds = familyCpuSeconds;

/** Waits (up to 60 s) until Postfix's queue is empty: its delivery to `discard` is done. */
async function postfixDrained(postfix) {
  const until = Date.now() + 60_000;
  while (!(await postfix.queueEmpty()) && Date.now() < until) await sleep(200);
}

// ---- load: smtp-source, and our own latency client -----------------------------------------------

/** With --policy: the DKIM-signed message every session sends ({ message, file }), set in main(). */
let template = null;

/** smtp-source over reused connections (-d): each of `sessions` connections sends message after message. */
const smtpSource = (port, sessions, messages) =>
  runSmtpSource(port, sessions, messages, {
    size: SIZE,
    from: SENDER,
    to: RCPT,
    ...(template ? { file: template.file, helo: HELO } : {}),
  });

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
function latencySession(port, until, max, first, intervalMs = 0) {
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
      socket.write(`EHLO ${template ? HELO : 'latency.client.example'}\r\n`);
      await expect('250', 'EHLO');
      // Paced: start at a random point of the first interval, then one message per interval.
      let next = Date.now() + Math.random() * intervalMs;
      for (let n = 0; n < max && Date.now() < until; n++) {
        if (intervalMs > 0) {
          const wait = next - Date.now();
          if (wait > 0) await sleep(wait);
          next += intervalMs;
        }
        socket.write(`MAIL FROM:<${SENDER}>\r\n`);
        await expect('250', 'MAIL');
        socket.write(`RCPT TO:<${RCPT}>\r\n`);
        await expect('250', 'RCPT');
        socket.write('DATA\r\n');
        await expect('354', 'DATA');
        socket.write(template ? template.message : message(first + n));
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

async function latencyRun(port, sessions, seconds, rate = 0) {
  const until = Date.now() + seconds * 1000;
  const max = 100_000;
  const intervalMs = rate > 0 ? (sessions * 1000) / rate : 0;
  const t0 = process.hrtime.bigint();
  const results = await Promise.all(
    Array.from({ length: sessions }, (_, i) => latencySession(port, until, max, i * max, intervalMs)),
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

/** With --policy: the policy service process, whose CPU counts with the checks (set in main()). */
let policyService = null;

async function measure(server, sessions, messages) {
  const isOurs = server.kind === 'ours';
  const before = isOurs ? parseMetrics(await server.metrics()) : null;
  const master = isOurs ? 0 : server.masterPid();
  const machine0 = machineCpu();
  const cpu0 = {
    node: isOurs ? cpuSeconds(server.pid) : 0,
    postfix: postfixCpuSeconds(master),
    pg: serverCpuSeconds('postgres'),
    redis: serverCpuSeconds('redis-server'),
    policy: policyService ? cpuSeconds(policyService.pid) : 0,
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
    pg: serverCpuSeconds('postgres') - cpu0.pg,
    redis: serverCpuSeconds('redis-server') - cpu0.redis,
    policy: (policyService ? cpuSeconds(policyService.pid) : 0) - cpu0.policy,
  };
  const result = { rate: messages / seconds, seconds, messages, cpu, peakRssKb };
  if (isOurs) {
    const after = parseMetrics(await server.metrics());
    const accepted = after.accepted - before.accepted;
    if (accepted !== messages)
      throw new Error(`${server.name}: ${accepted} of ${messages} messages accepted`);
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
    const projects = POLICY ? ['mx', 'policy'] : ['mx'];
    process.stderr.write(`building ${projects.join(', ')} (nx run-many -t build)...\n`);
    const built = await run('npx', ['nx', 'run-many', '-t', 'build', '-p', ...projects], {
      env: { ...process.env, NX_DAEMON: 'false' },
      timeoutMs: 300_000,
    });
    if (built.code !== 0) throw new Error(`build failed: ${built.stdout}${built.stderr}`);
  }
  for (const app of POLICY ? ['mx', 'policy'] : ['mx'])
    if (!existsSync(path.join(root, `dist/apps/${app}/main.js`)))
      throw new Error(`dist/apps/${app}/main.js missing`);

  process.stderr.write(`database ${DB_NAME}, Redis prefix ${REDIS_PREFIX}: migrating...\n`);
  onCleanup(async () => {
    const n = await deleteRedisKeys(REDIS_PREFIX);
    process.stderr.write(`deleted ${n} Redis keys under ${REDIS_PREFIX}:*\n`);
  });
  await setupDatabase();
  let ours;
  let plain = null;
  let dns = null;
  let greylistReplies = [];
  if (POLICY) {
    template = await signedTemplate({ size: SIZE, sender: SENDER, rcpt: RCPT });
    dns = await startPolicyDns(template.dkimRecord);
    policyService = await startPolicyService(policyEnv(dns, POLICY_PARTS));
    ours = await startMx('ours', policyEnv(dns, POLICY_PARTS));
    plain = await startMx('plain', plainEnv(dns));
    if (POLICY_PARTS !== 'inbound') greylistReplies = await primeGreylist(ours.port, SENDER, RCPT);
    process.stderr.write(
      `policy: dnsmasq on ${dns.host}:${dns.port}, greylisting primed (${greylistReplies.join(' → ')})\n`,
    );
  } else {
    // Without --policy there is no loopback DNS: the inbound checks would wait on absent resolvers.
    ours = await startMx('ours', { POLICY_INBOUND_CHECKS: 'false' });
  }
  const postfix = await startPostfix();
  postfix.kind = 'postfix';
  const servers = [ours, ...(plain ? [plain] : []), postfix];
  let sentToPostfix = 0;
  process.stderr.write(
    `mx on 127.0.0.1:${ours.port} (pid ${ours.pid}), ${plain ? `mx without checks on 127.0.0.1:${plain.port}, ` : ''}postfix on 127.0.0.1:${postfix.port}\n`,
  );

  // Warm-up: JIT, connection pools, Postfix's process pool.
  for (const server of servers) {
    await smtpSource(server.port, 10, 200);
    if (server === postfix) sentToPostfix += 200;
  }

  const rows = [];
  for (const sessions of SESSIONS) {
    // Calibration (not counted): size each side's runs to last about SECONDS.
    const size = {};
    for (const server of servers) {
      const m0 = Math.max(20, sessions * 5);
      const s = await smtpSource(server.port, sessions, m0);
      if (server === postfix) sentToPostfix += m0;
      const m = Math.round(((m0 / s) * SECONDS) / sessions) * sessions;
      size[server.name] = Math.min(MAX_MESSAGES_PER_RUN, Math.max(sessions * 4, 20, m));
    }
    const runs = Object.fromEntries(servers.map((server) => [server.name, []]));
    for (let i = 0; i < RUNS; i++)
      for (const server of servers) {
        await postfixDrained(postfix);
        runs[server.name].push(await measure(server, sessions, size[server.name]));
        if (server === postfix) sentToPostfix += size.postfix;
        process.stderr.write(
          `  ${sessions} sessions, ${server.name} run ${i + 1}: ${fmt(runs[server.name].at(-1).rate)} msg/s\n`,
        );
      }
    // Latency with our own client (separate runs: smtp-source does not report per-message times).
    // Each starts on a quiet machine: Postfix still discards the mail of its last smtp-source run
    // for some seconds after smtp-source ends, and that work would land in the other's window.
    const latency = {};
    for (const server of servers) {
      await postfixDrained(postfix);
      const before = server.kind === 'ours' ? parseMetrics(await server.metrics()) : null;
      const l = await latencyRun(server.port, sessions, LATENCY_SECONDS);
      if (server === postfix) sentToPostfix += l.samples.length;
      else l.histP99 = histogramQuantile(0.99, diffBuckets(parseMetrics(await server.metrics()), before));
      latency[server.name] = l;
      process.stderr.write(
        `  ${sessions} sessions, ${server.name} latency client: ${l.samples.length} messages, p99 ${fmt(percentile(l.samples, 0.99), 1)} ms\n`,
      );
    }
    const paced = [];
    if (sessions > 1)
      for (const rate of PACED_RATES) {
        const atRate = { rate };
        for (const server of servers) {
          await postfixDrained(postfix);
          atRate[server.name] = await latencyRun(server.port, sessions, LATENCY_SECONDS, rate);
          if (server === postfix) sentToPostfix += atRate[server.name].samples.length;
        }
        paced.push(atRate);
      }
    rows.push({ sessions, size, runs, latency, paced });
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
  const authResults = POLICY ? await storedAuthenticationResults(withDatabase, DB_NAME) : null;
  const oursOutput = [ours, plain, policyService]
    .filter(Boolean)
    .map((s) => s.output())
    .join('\n');

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
    'ours: dist/apps/mx/main.js, NODE_ENV=production LOG_LEVEL=warn, default settings (flow control on), fresh ' +
      'PostgreSQL database (the messages that end their data together share one transaction), BullMQ `accepted` ' +
      'job after the 250. postfix: private instance, queue files fsynced by cleanup, then the discard transport.\n',
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
  if (POLICY) printPolicy(rows, greylistReplies, authResults);
  for (const r of rows)
    for (const p of r.paced)
      console.log(
        `  ${r.sessions} sessions paced at ${fmt(p.rate)} msg/s in all (open loop): 250 after data p50 / p99 ` +
          `ours ${fmt(percentile(p.ours.samples, 0.5), 1)} / ${fmt(percentile(p.ours.samples, 0.99), 1)} ms ` +
          `(n=${p.ours.samples.length}, ${fmt(p.ours.rate)} msg/s), ` +
          `postfix ${fmt(percentile(p.postfix.samples, 0.5), 1)} / ${fmt(percentile(p.postfix.samples, 0.99), 1)} ms ` +
          `(n=${p.postfix.samples.length}, ${fmt(p.postfix.rate)} msg/s).`,
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
  if (loggedErrors(oursOutput)) console.log(`WARNING: mx logged errors:\n${oursOutput.slice(-3000)}`);
  console.log(`Total time ${fmt((Date.now() - started) / 1000)} s.`);
}

/** --policy: the checks against the same mx without them and Postfix, and the CPU they add. */
function printPolicy(rows, greylistReplies, authResults) {
  console.log(`\nChecks run by the checking mx: ${POLICY_PARTS} (--policy-parts).`);
  console.log(
    'With --policy, "ours" above is mx with every inbound check on (POLICY_INBOUND_CHECKS, DNSBL_ZONES, DNSWL_ZONES, ' +
      'GREYLISTING (GREYLIST_DELAY_S=1) with the one triplet passed, MX_RATE_* counted but never reached; DKIM-signed RSA-2048 messages, ' +
      'SPF pass, DMARC p=reject pass, DNS from dnsmasq on loopback and cached by mx), and the policy service runs. ' +
      '"no checks" is the same mx with POLICY_INBOUND_CHECKS=false and no policy questions; Postfix has no checks.\n',
  );
  console.log(
    '| sessions | checks msg/s | no checks msg/s | postfix msg/s | checks/postfix | p99 250 after dot: checks / no checks / postfix | mx CPU/msg checks / no checks | policy service CPU/msg | CPU/msg the checks add (mx + policy service) | with PostgreSQL + Redis |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const rate = (name) => median(r.runs[name].map((x) => x.rate));
    const perMsg = (name, keys) => {
      const runs = r.runs[name];
      const msgs = runs.reduce((a, x) => a + x.messages, 0);
      return (1000 * runs.reduce((a, x) => a + keys.reduce((b, k) => b + x.cpu[k], 0), 0)) / msgs;
    };
    const p99 = (name) => fmt(percentile(r.latency[name].samples, 0.99), 1);
    const checks = perMsg('ours', ['node', 'policy']);
    const none = perMsg('plain', ['node']);
    const stackChecks = perMsg('ours', ['node', 'policy', 'pg', 'redis']);
    const stackNone = perMsg('plain', ['node', 'pg', 'redis']);
    console.log(
      `| ${r.sessions} | ${fmt(rate('ours'))} | ${fmt(rate('plain'))} | ${fmt(rate('postfix'))} | ${fmt(rate('ours') / rate('postfix'), 2)}× | ` +
        `${p99('ours')} / ${p99('plain')} / ${p99('postfix')} ms | ${fmt(perMsg('ours', ['node']), 2)} / ${fmt(none, 2)} ms | ` +
        `${fmt(perMsg('ours', ['policy']), 2)} ms | ${fmt(checks - none, 2)} ms | ${fmt(stackChecks - stackNone, 2)} ms |`,
    );
  }
  console.log(`  greylisting primer, RCPT before / after the retry: ${greylistReplies.join(' → ')}`);
  console.log(`  stored by the mx with checks: ${authResults ?? 'no Authentication-Results field'}`);
  const shown = authResults ?? '';
  if (POLICY_PARTS !== 'service' && !['spf=pass', 'dkim=pass', 'dmarc=pass'].every((r) => shown.includes(r)))
    console.log(
      'WARNING: the stored message does not show spf, dkim and dmarc pass: the checks did not run as set up.',
    );
  if (POLICY_PARTS !== 'inbound' && !greylistReplies[0]?.startsWith('451'))
    console.log('WARNING: greylisting did not answer 451 first: it is off.');
  console.log(
    `  runs (msg/s), no checks: ${rows.map((r) => `${r.sessions} sessions ${r.runs.plain.map((x) => fmt(x.rate)).join(', ')}`).join('; ')}`,
  );
}

try {
  await main();
} catch (e) {
  console.error(`bench/intake: ${e instanceof Error ? e.stack : e}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
