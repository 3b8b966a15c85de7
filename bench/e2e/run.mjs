#!/usr/bin/env node
// End-to-end benchmark (issue #5): N messages of 5 KB submitted with smtp-source to `mx` for a
// relay domain, routed by `queue`, delivered by 1 and then 2 `delivery` processes to a local
// smtp-sink; timed from the start of the submission to the sink's N-th message. The same load
// goes through a private Postfix relaying to the same kind of sink, in the same run.
// Run from the repository root, as root:  node bench/e2e/run.mjs  [--quick] [--messages N] [--runs K] [--no-build]
// See bench/README.md. Prints a table; not a test.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { argValue, argWords, hasFlag } from '../lib/args.mjs';
import { cleanup, onCleanup } from '../lib/cleanup.mjs';
import {
  copyDatabase,
  databaseUrl,
  dropDatabase,
  migrateDatabase,
  transactionCount,
  withDatabase,
} from '../lib/database.mjs';
import { DNSMASQ, startDnsmasq } from '../lib/dnsmasq.mjs';
import { printReport } from '../lib/e2e-print.mjs';
import { fmt } from '../lib/numbers.mjs';
import { root } from '../lib/paths.mjs';
import { POSTFIX, baseMainCf, baseMasterCf, startPostfix } from '../lib/postfix.mjs';
import {
  childCpuSampler,
  cpuSeconds,
  cpuByCmdline,
  cpuByCmdlineDelta,
  familyCpuSeconds,
  machineCpu,
  reapedChildrenCpuSeconds,
  serverCpuSeconds,
  statusKb,
} from '../lib/proc-cpu.mjs';
import { deadline, freePort, run, sleep } from '../lib/processes.mjs';
import { REDIS_URL, deleteRedisKeys } from '../lib/redis.mjs';
import { loggedErrors, nodeFlags, startService } from '../lib/services.mjs';
import { SMTP_SINK, startSmtpSink } from '../lib/smtp-sink.mjs';
import { SMTP_SOURCE, smtpSource } from '../lib/smtp-source.mjs';
import { startDelaySink } from '../lib/delay-sink.mjs';
import { startAllInOne } from './all-in-one.mjs';
import {
  dnsmasqRecords,
  latencyDestinations,
  postfixConcurrency,
  postfixRelayLines,
  repliesPerMessage,
} from '../lib/latency.mjs';
import { sendLoad } from '../lib/smtp-load.mjs';
import { WEBHOOK_KEY, addWebhookEndpoint, startWebhookReceiver } from '../lib/webhook-receiver.mjs';

const quick = hasFlag('--quick');
/** Latency-bound mode (issue 21): this many destination domains behind one slow sink; 0: off. */
const LATENCY_DOMAINS = Number(argValue('--latency-domains', '0'));
/** In latency mode: how long the sink waits before each reply. */
const REPLY_DELAY_MS = Number(argValue('--reply-delay-ms', '200'));
const LATENCY = LATENCY_DOMAINS > 0;
/** Messages per measured run. */
const MESSAGES = Number(argValue('--messages', LATENCY ? '2000' : quick ? '1000' : '10000'));
/** Measured runs per row; the median run (by end-to-end msg/s) is shown. */
const RUNS = Number(argValue('--runs', '1'));
/** Concurrent smtp-source sessions (each reuses its connection, -d). */
const SESSIONS = Number(argValue('--sessions', '50'));
/** Messages sent (and delivered) before each measured run, not counted: JIT, pools, Postfix's processes. */
const WARMUP = Number(argValue('--warmup', LATENCY ? String(LATENCY_DOMAINS) : quick ? '100' : '200'));
/** DELIVERY_CONCURRENCY of each delivery process (the product's default is 20). */
const CONCURRENCY = argValue('--concurrency', '20');
/** Delivery processes of our rows (`none`: no such rows). */
const WORKERS = (argValue('--workers', '1,2') ?? '1,2').split(',').filter((w) => w && w !== 'none').map(Number);
/** all-in-one rows (issue 21): `supervise` and/or `single` (bench/e2e/all-in-one.mjs). */
const ALL_IN_ONE = (argValue('--all-in-one', '') ?? '').split(',').filter(Boolean);
/** ALL_IN_ONE_DELIVERY_WORKERS of the supervised all-in-one (the product's default: half the cores, at least 1). */
const AIO_WORKERS = Number(argValue('--aio-workers', String(Math.max(1, Math.floor(os.availableParallelism() / 2)))));
/** Give a run up if the sink has received nothing new for this long. */
const STALL_SECONDS = Number(argValue('--stall-seconds', '60'));
const SKIP_BUILD = hasFlag('--no-build');
/** LOG_LEVEL of our services (the product's default is info; Postfix logs every message too). */
const LOG_LEVEL = argValue('--log-level', 'warn');
const SKIP_POSTFIX = hasFlag('--no-postfix');
/** Count PostgreSQL transactions per delivered message (pg_stat_database; adds about 22 s per run of ours). */
const PG_TRANSACTIONS = hasFlag('--pg-transactions');
/** Write V8 CPU profiles of our processes into this directory (node --cpu-prof), one file per process. */
const PROFILE_DIR = argValue('--cpu-prof-dir', null);
/** Extra node flags for our processes, e.g. "--trace-gc" (with --service-log-dir to keep the output). */
const NODE_ARGS = argWords('--node-args');
/** Append each of our processes' output to <dir>/<name>.log. */
const LOG_DIR = argValue('--service-log-dir', null);
const execArgv = nodeFlags(PROFILE_DIR, NODE_ARGS);
/** Issue 22: each row of ours again with a webhook endpoint (every event type) at a loopback receiver. */
/** The same, the endpoint created with `batch: true` (several events per POST, up to WEBHOOK_BATCH_MAX). */
const WEBHOOK_BATCH = hasFlag('--webhook-batch');
const WEBHOOK = hasFlag('--webhook') || WEBHOOK_BATCH;
/** The receiver of the --webhook rows (started in main). */
let receiver;

const SIZE = 5120;
const DOMAIN = 'bench.example';
const SENDER = 'sender@remote.example';
const RCPT = `rcpt@${DOMAIN}`;
const SINK_HOST = `sink.${DOMAIN}`;
/** The bundles the rows run (all-in-one's build builds every app). */
const APPS = ['mx', 'queue', 'delivery', ...(ALL_IN_ONE.length ? ['all-in-one', 'submission', 'policy', 'admin-api'] : [])];
/** Latency mode: the destinations, d<i>.bench.example with MX mx.d<i>.bench.example on 127.1.x.y. */
const DESTINATIONS = latencyDestinations(LATENCY_DOMAINS, DOMAIN);
/** The per-destination limit of our delivery: DELIVERY_MAX_CONNECTIONS, passed on to our processes (default 20). */
const PER_DESTINATION = Number(process.env.DELIVERY_MAX_CONNECTIONS ?? 20);

const stamp = `${Date.now().toString(36)}_${process.pid}`;
const TEMPLATE_DB = `bench_e2e_${stamp}_template`;
const log = (line) => process.stderr.write(`${line}\n`);
const seconds = (from, to) => Number(to - from) / 1e9;

// ---- our side -----------------------------------------------------------------------------------

/** A migrated database with the relay domain, copied for each of our runs. */
async function setupTemplate() {
  onCleanup(() => dropDatabase(TEMPLATE_DB));
  await migrateDatabase(TEMPLATE_DB);
  await withDatabase(TEMPLATE_DB, (c) =>
    c.query("insert into domains (name, type) select unnest($1::text[]), 'relay'", [
      [DOMAIN, ...DESTINATIONS.map((d) => d.domain)],
    ]),
  );
}

/** What every one of our processes gets: the sink through dnsmasq, the run's settings. */
const commonEnv = (sink, dns, tmp) => ({
  MTA_HOSTNAME: `mx.${DOMAIN}`,
  DNS_SERVERS: `${dns.host}:${dns.port}`,
  DELIVERY_PORT: String(sink.port),
  DELIVERY_CONCURRENCY: CONCURRENCY,
  LOCAL_DELIVERY: `maildir:${path.join(tmp, 'maildir')}`,
  LOG_LEVEL,
  // Postfix here checks nothing either; and the bench's DNS has no SPF/DMARC answer for the
  // sender's domain, so the checks would refuse every message with 451 (bench/policy measures them).
  POLICY_INBOUND_CHECKS: 'false',
});

/** The system of one row: ours (separate services), all-in-one, or Postfix. */
function startSystem(row, runId, sink, dns, tmp) {
  if (row.kind === 'ours') return startOurs(runId, row.workers, sink, dns, tmp, row.webhook);
  if (row.kind === 'postfix') return startOurPostfix(sink);
  const common = commonEnv(sink, dns, tmp);
  return startAllInOne({ runId, mode: row.mode, workers: row.workers, template: TEMPLATE_DB, stamp, common, execArgv });
}

/** mx, queue and `workers` delivery processes on a fresh database and Redis prefix, delivering to `sink`. */
async function startOurs(runId, workers, sink, dns, tmp, webhook = false) {
  const db = `bench_e2e_${stamp}_${runId}`;
  const prefix = `bench-e2e-${stamp}-${runId}`;
  const dropDb = onCleanup(() => dropDatabase(db));
  const dropKeys = onCleanup(async () => {
    const n = await deleteRedisKeys(prefix);
    log(`  deleted ${n} Redis keys under ${prefix}:*`);
  });
  await copyDatabase(TEMPLATE_DB, db);
  const common = { ...commonEnv(sink, dns, tmp), DATABASE_URL: databaseUrl(db), REDIS_URL, REDIS_PREFIX: prefix };
  if (webhook) {
    await addWebhookEndpoint(db, receiver.url, WEBHOOK_BATCH);
    Object.assign(common, { WEBHOOK_SECRET_KEY: WEBHOOK_KEY.toString('base64'), WEBHOOK_ALLOW_PRIVATE: 'true' });
  }
  const mxPort = await freePort();
  const started = await Promise.allSettled([
    startService('mx', {
      execArgv,
      logDir: LOG_DIR,
      smtpPort: mxPort,
      env: { ...common, MX_LISTEN: `127.0.0.1:${mxPort}` },
    }),
    startService('queue', { execArgv, logDir: LOG_DIR, env: common }),
    ...Array.from({ length: workers }, (_, i) =>
      startService('delivery', { execArgv, logDir: LOG_DIR, name: `delivery-${i + 1}`, env: common }),
    ),
  ]);
  const services = started.filter((s) => s.status === 'fulfilled').map((s) => s.value);
  const failed = started.find((s) => s.status === 'rejected');
  const stopAll = async () => {
    // mx first (no new mail), then the queue and the workers together.
    const stopped = [];
    for (const group of [services.slice(0, 1), services.slice(1)])
      await Promise.all(
        group.map(async (s) => {
          const t0 = Date.now();
          await s.stop();
          stopped.push({ name: s.name, ms: Date.now() - t0, ...s.stopInfo() });
        }),
      );
    return stopped;
  };
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  const [mx, queue, ...delivery] = services;
  return {
    name: `ours, ${workers} delivery worker${workers > 1 ? 's' : ''}${webhook ? ', webhooks on' : ''}`,
    kind: 'ours',
    workers,
    port: mxPort,
    db,
    mx,
    queue,
    delivery,
    cpu: () => ({
      // PostgreSQL backends serving this run's database (their process title names it).
      pgOurs: cpuByCmdline(new RegExp(`^postgres: .* ${db} `)),
      mx: cpuSeconds(mx.pid),
      queue: cpuSeconds(queue.pid),
      delivery: delivery.reduce((a, d) => a + cpuSeconds(d.pid), 0),
    }),
    peakRssKb: () => Object.fromEntries(services.map((s) => [s.name, statusKb(s.pid, 'VmHWM')])),
    async finish() {
      const jobs = {};
      for (const d of delivery)
        for (const m of (await d.metrics().catch(() => '')).matchAll(
          /^mta_delivery_jobs_total\{[^}]*result="([^"]+)"[^}]*\} (\S+)/gm,
        ))
          jobs[m[1]] = (jobs[m[1]] ?? 0) + Number(m[2]);
      const batches = {
        ...meanBatches(await mx.metrics().catch(() => ''), 'mta_intake_batch_messages', 'service'),
        ...meanBatches(await queue.metrics().catch(() => ''), 'mta_queue_batch_jobs', 'kind'),
      };
      const state = await dbState(db);
      const outputs = services.map((s) => [s.name, s.output()]);
      const stopped = await stopAll();
      await dropDb();
      await dropKeys();
      return { jobs, batches, state, outputs, stopped };
    },
  };
}

/** Mean batch size per label value of a Prometheus histogram (sum / count), warm-up included. */
function meanBatches(text, metric, label) {
  const part = (kind) =>
    new Map(
      [
        ...text.matchAll(new RegExp(`^${metric}_${kind}\\{[^}]*\\b${label}="([^"]+)"[^}]*\\} (\\S+)`, 'gm')),
      ].map((m) => [m[1], Number(m[2])]),
    );
  const sums = part('sum');
  return Object.fromEntries(
    [...part('count')].filter(([, n]) => n > 0).map(([k, n]) => [k, (sums.get(k) ?? 0) / n]),
  );
}

/** How far our database says the messages got: recipients by status, messages by state, events by type. */
async function dbState(db) {
  return withDatabase(db, async (c) => {
    const group = async (sql) => Object.fromEntries((await c.query(sql)).rows.map((r) => [r.k, Number(r.n)]));
    return {
      recipients: await group('select status::text k, count(*) n from recipients group by 1'),
      messages: await group('select state::text k, count(*) n from messages group by 1'),
      events: await group('select type::text k, count(*) n from events group by 1'),
    };
  });
}

/**
 * Transactions this script caused in a run's database (waitSettled): not the system's. Each
 * call is two: its query, and the start of its connection (measured: 20 connections of one
 * `select 1` and one connection of 20 gave 61).
 */
let benchQueries = 0;

async function waitSettled(db, total, timeoutMs) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    benchQueries += 2;
    const n = await withDatabase(db, async (c) =>
      Number((await c.query("select count(*) n from recipients where status = 'delivered'")).rows[0].n),
    );
    if (n >= total) return true;
    await sleep(200);
  }
  return false;
}

// ---- Postfix: a private instance relaying bench.example to the sink ------------------------------

function postfixMainCf(sinkPort) {
  return (dir) => `${baseMainCf(dir)}myhostname = postfix.${DOMAIN}
mydomain = postfix.${DOMAIN}
myorigin = $myhostname
mydestination =
local_transport = error:no local delivery here
# Accept any recipient in the relay domain (as our mx does for a relay domain), nobody else.
relay_domains = ${DOMAIN}
relay_recipient_maps =
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions =
# The sink, by address, no MX lookup (our side resolves the MX, cached; see bench/README.md).
relayhost = [127.0.0.1]:${sinkPort}
${LATENCY ? postfixRelayLines(DESTINATIONS, sinkPort) : ''}`;
}

function postfixMasterCf(port) {
  return `${baseMasterCf(port)}smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
`;
}

async function startOurPostfix(sink) {
  const postfix = await startPostfix({ mainCf: postfixMainCf(sink.port), masterCf: postfixMasterCf });
  return {
    name: 'postfix',
    kind: 'postfix',
    port: postfix.port,
    cpu: () => ({ postfix: familyCpuSeconds(postfix.masterPid()) }),
    /** Samples the CPU of Postfix's daemons by name until stop(). */
    sampleDaemons: () => childCpuSampler(postfix.masterPid),
    peakRssKb: () => ({}),
    async finish() {
      let drained = false;
      for (let i = 0; i < 100 && !drained; i++) {
        drained = await postfix.queueEmpty();
        if (!drained) await sleep(200);
      }
      const maillog = postfix.maillog();
      const result = {
        drained,
        sent: (maillog.match(/ status=sent /g) ?? []).length,
        notSent: (maillog.match(/ status=(deferred|bounced)/g) ?? []).length,
        rejected: (maillog.match(/NOQUEUE: reject/g) ?? []).length,
        problems: maillog
          .split('\n')
          .filter((l) => /(fatal|panic|error|warning):/.test(l))
          .slice(0, 5),
      };
      await postfix.stop();
      return result;
    },
  };
}

/**
 * Submits `n` messages over `sessions` sessions; resolves with the wall time in seconds. Latency
 * mode: our SMTP load client (smtp-source has one recipient), message i to destination i mod D.
 */
async function submit(port, sessions, n, tag) {
  if (!LATENCY)
    return smtpSource(port, sessions, n, { size: SIZE, from: SENDER, to: RCPT, timeoutMs: 600_000 });
  const ids = Array.from({ length: n }, (_, i) => `${tag}-${i}@bench`);
  const domainOf = new Map(ids.map((id, i) => [id, DESTINATIONS[i % DESTINATIONS.length].domain]));
  const t0 = process.hrtime.bigint();
  const r = await sendLoad(port, ids, {
    sessions,
    from: SENDER,
    to: (id) => `rcpt@${domainOf.get(id)}`,
    size: SIZE,
  });
  if (r.accepted.size !== n)
    throw new Error(
      `submission: ${r.accepted.size} of ${n} accepted; ${[...r.errors].map(([e, k]) => `${k}× ${e}`).join('; ')}`,
    );
  return seconds(t0, process.hrtime.bigint());
}

// ---- one measured run ----------------------------------------------------------------------------

function cpuSnapshot(system, sink, dns) {
  return {
    machine: machineCpu().busy,
    pg: serverCpuSeconds('postgres'),
    redis: serverCpuSeconds('redis-server'),
    sink: cpuSeconds(sink.pid),
    source: reapedChildrenCpuSeconds(process.pid),
    dns: dns ? cpuSeconds(dns.pid) : 0,
    ...system.cpu(),
  };
}

const diff = (a, b) =>
  Object.fromEntries(
    Object.keys(a).map((k) => [k, a[k] instanceof Map ? cpuByCmdlineDelta(b[k], a[k]) : a[k] - (b[k] ?? 0)]),
  );

async function measuredRun(row, runId, dns) {
  const { kind, workers } = row;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-e2e-'));
  const removeTmp = onCleanup(() => rmSync(tmp, { recursive: true, force: true }));
  const sink = LATENCY
    ? await startDelaySink({ addresses: DESTINATIONS.map((d) => d.address), delayMs: REPLY_DELAY_MS })
    : await startSmtpSink();
  let system;
  try {
    system = await startSystem(row, runId, sink, dns, tmp);
  } catch (e) {
    await sink.stop();
    throw e;
  }
  const result = { name: system.name, kind, workers, suspect: [] };
  try {
    // Warm-up, delivered completely before the measured load starts.
    await submit(system.port, 10, WARMUP, `w${runId}`);
    const warm = await Promise.race([sink.reached(WARMUP), deadline(120_000).then(() => null)]);
    if (!warm)
      throw new Error(
        `${system.name}: warm-up not delivered in 120 s (sink has ${sink.count()} of ${WARMUP})`,
      );
    // Statistics, as autovacuum would have gathered them on a real server: the copied template
    // has none, and this machine's PostgreSQL runs with autovacuum off, so without this the
    // planner would work from the empty tables of the template for the whole run.
    if (system.db) await withDatabase(system.db, (c) => c.query('ANALYZE'));
    await sleep(500);
    // PostgreSQL transactions per delivered message: the count once the warm-up is settled and quiet.
    let xact0 = null;
    if (PG_TRANSACTIONS && system.db) {
      await waitSettled(system.db, WARMUP, 60_000);
      xact0 = { n: await transactionCount(system.db), own: benchQueries };
    }
    const base = sink.count();
    const target = base + MESSAGES;

    let cpuEnd = null;
    let tEnd = null;
    let daemons = null;
    const done = sink.reached(target).then((t) => {
      cpuEnd = cpuSnapshot(system, sink, dns);
      result.postfixByComm = daemons?.stop();
      tEnd = t;
    });
    const cpu0 = cpuSnapshot(system, sink, dns);
    daemons = system.sampleDaemons?.() ?? null;
    const replies0 = LATENCY ? await sink.stats() : null;
    const t0 = process.hrtime.bigint();
    // Progress, and the stall guard: give up when the sink count stops moving.
    let last = { count: base, at: Date.now() };
    let stalled = false;
    const progress = setInterval(() => {
      const n = sink.count();
      if (n !== last.count) last = { count: n, at: Date.now() };
      else if (Date.now() - last.at > STALL_SECONDS * 1000) stalled = true;
    }, 250);
    const ticker = setInterval(
      () => log(`    ${fmt(seconds(t0, process.hrtime.bigint()), 1)} s: ${sink.count() - base} delivered`),
      5000,
    );
    let acceptSeconds;
    try {
      acceptSeconds = await submit(system.port, SESSIONS, MESSAGES, `m${runId}`);
      result.deliveredAtAcceptEnd = sink.count() - base;
      result.acceptEnd = process.hrtime.bigint();
      while (tEnd === null && !stalled) await Promise.race([done, sleep(250)]);
    } finally {
      clearInterval(progress);
      clearInterval(ticker);
    }
    if (tEnd === null) {
      result.suspect.push(
        `stalled: the sink has ${sink.count() - base} of ${MESSAGES} after ${STALL_SECONDS} s without progress`,
      );
      tEnd = process.hrtime.bigint();
      cpuEnd = cpuSnapshot(system, sink, dns);
      result.postfixByComm = daemons?.stop();
    }
    const wall = seconds(t0, tEnd);
    if (LATENCY) {
      const from = base + Math.round(MESSAGES * 0.1);
      const to = base + Math.round(MESSAGES * 0.9);
      result.steadyRate = sink.at(to) ? (to - from) / seconds(sink.at(from), sink.at(to)) : NaN;
      // Delivery alone: from the end of the submission (intake no longer competes for the CPU)
      // to the last message, if at least a fifth of the messages were still to come.
      const left = MESSAGES - result.deliveredAtAcceptEnd;
      result.afterAcceptRate = left >= MESSAGES / 5 ? left / seconds(result.acceptEnd, tEnd) : NaN;
      result.replies = repliesPerMessage(replies0, await sink.stats(), sink.count() - base);
      result.perDestination =
        kind !== 'postfix' ? PER_DESTINATION : postfixConcurrency().default_destination_concurrency_limit;
    }
    Object.assign(result, {
      messages: MESSAGES,
      acceptSeconds,
      wall,
      rate: MESSAGES / wall,
      acceptRate: MESSAGES / acceptSeconds,
      cpu: diff(cpuEnd, cpu0),
      peakRssKb: system.peakRssKb(),
    });
    if (kind !== 'postfix') {
      const settled = await waitSettled(system.db, WARMUP + MESSAGES, 60_000);
      result.settledSeconds = seconds(t0, process.hrtime.bigint());
      if (!settled)
        result.suspect.push(
          'our database does not show every recipient delivered 60 s after the sink had them',
        );
    }
    await sleep(1000); // anything delivered twice would arrive now
    if (xact0) {
      const n = await transactionCount(system.db);
      result.pgTransactionsPerMessage = (n - xact0.n - (benchQueries - xact0.own)) / MESSAGES;
    }
  } finally {
    result.finish = await system.finish().catch((e) => ({ error: e.message }));
    result.sinkCount = sink.count();
    const ids = sink.dumps();
    result.dumps = ids.length;
    result.distinct = new Set(ids.filter(Boolean)).size;
    await sink.stop();
    await removeTmp();
  }
  const total = WARMUP + MESSAGES;
  if (result.dumps !== total || result.distinct !== total || result.sinkCount !== total)
    result.suspect.push(
      `the sink received ${result.sinkCount} messages (${result.dumps} dump files, ${result.distinct} distinct Message-Ids), expected ${total} once each`,
    );
  const f = result.finish;
  if (f.error) result.suspect.push(`finish: ${f.error}`);
  if (kind !== 'postfix' && f.outputs) {
    for (const [name, out] of f.outputs)
      if (loggedErrors(out)) result.suspect.push(`${name} logged errors:\n${out.slice(-2000)}`);
    for (const s of f.stopped ?? [])
      if (s.killed) result.suspect.push(`${s.name} did not exit within 15 s of SIGTERM (killed)`);
  }
  if (kind === 'postfix' && !f.error) {
    if (!f.drained) result.suspect.push('the Postfix queue was not empty at the end');
    if (f.sent !== total || f.notSent || f.rejected)
      result.suspect.push(
        `Postfix log: ${f.sent} status=sent, ${f.notSent} deferred/bounced, ${f.rejected} rejected; expected ${total} sent`,
      );
  }
  return result;
}

// ---- main ----------------------------------------------------------------------------------------

async function main() {
  for (const bin of [SMTP_SOURCE, SMTP_SINK, POSTFIX, DNSMASQ])
    if (!existsSync(bin)) throw new Error(`${bin} is missing: apt-get install postfix dnsmasq-base`);
  if (process.getuid?.() !== 0)
    throw new Error('run as root: the private Postfix and smtp-sink drop privileges');
  const started = Date.now();
  const load0 = os.loadavg();
  if (!SKIP_BUILD) {
    log(`building ${APPS.join(', ')} (nx run-many -t build -p ${APPS.join(' ')})...`);
    const built = await run('npx', ['nx', 'run-many', '-t', 'build', '-p', ...APPS], {
      env: { ...process.env, NX_DAEMON: 'false' },
      timeoutMs: 600_000,
    });
    if (built.code !== 0) throw new Error(`build failed: ${built.stdout}${built.stderr}`);
  }
  for (const app of APPS)
    if (!existsSync(path.join(root, `dist/apps/${app}/main.js`)))
      throw new Error(`dist/apps/${app}/main.js missing`);

  log(`database template ${TEMPLATE_DB}: migrating...`);
  await setupTemplate();
  // The relay domain's MX is the sink's loopback address; its port is DELIVERY_PORT.
  // Authoritative for the zone, so that the empty AAAA answer carries an SOA and may be cached
  // like the MX and A records (without it every delivery would ask again).
  const dns = await startDnsmasq(
    [
      `--mx-host=${DOMAIN},${SINK_HOST},10`,
      `--host-record=${SINK_HOST},127.0.0.1`,
      ...dnsmasqRecords(DESTINATIONS),
      `--auth-server=ns.${DOMAIN},127.0.0.1`,
      `--auth-zone=${DOMAIN}`,
      '--auth-ttl=300',
    ],
    { localDomain: DOMAIN },
  );

  if (WEBHOOK) {
    receiver = await startWebhookReceiver();
    onCleanup(() => receiver.close());
  }
  const rows = [
    ...WORKERS.flatMap((w) =>
      [false, ...(WEBHOOK ? [true] : [])].map((webhook) => ({
        kind: 'ours',
        workers: w,
        webhook,
        label: `ours, ${w} delivery worker${w > 1 ? 's' : ''}${webhook ? `, webhooks on${WEBHOOK_BATCH ? ' (batches)' : ''}` : ''}`,
      })),
    ),
    ...ALL_IN_ONE.map((mode) => ({
      kind: 'aio',
      mode,
      workers: mode === 'single' ? 1 : AIO_WORKERS,
      label: mode === 'single' ? 'all-in-one, single process' : `all-in-one, supervised, ${AIO_WORKERS} delivery worker${AIO_WORKERS > 1 ? 's' : ''}`,
    })),
    ...(SKIP_POSTFIX ? [] : [{ kind: 'postfix', workers: 0, label: 'postfix' }]),
  ].map((r) => ({ ...r, runs: [] }));
  // Interleaved: ours(1), ours(2), postfix, ours(1), ...
  for (let i = 0; i < RUNS; i++)
    for (const row of rows) {
      log(`${row.label}, run ${i + 1}: ${MESSAGES} messages...`);
      const [posted, postedEvents] = [receiver?.count() ?? 0, receiver?.events() ?? 0];
      const r = await measuredRun(row, `${row.kind}${row.mode ?? ''}${row.workers}${row.webhook ? 'w' : ''}_${i}`, dns);
      if (row.webhook)
        log(
          `  webhooks received during the run and its shutdown: ${receiver.events() - postedEvents} events in ${receiver.count() - posted} POSTs`,
        );
      row.runs.push(r);
      log(
        `  ${fmt(r.rate)} msg/s end to end (${fmt(r.wall, 1)} s), accept ${fmt(r.acceptSeconds, 1)} s` +
          (r.suspect.length ? ` — SUSPECT: ${r.suspect.join('; ')}` : ''),
      );
    }

  printReport(rows, {
    load0,
    messages: MESSAGES,
    size: SIZE,
    rcpt: RCPT,
    sessions: SESSIONS,
    warmup: WARMUP,
    runs: RUNS,
    logLevel: LOG_LEVEL,
    concurrency: CONCURRENCY,
    aioWorkers: ALL_IN_ONE.length ? AIO_WORKERS : null,
    latency: LATENCY
      ? { destinations: LATENCY_DOMAINS, delayMs: REPLY_DELAY_MS, perDestination: PER_DESTINATION }
      : null,
  });
  console.log(`Total time ${fmt((Date.now() - started) / 1000)} s.`);
}

try {
  await main();
} catch (e) {
  console.error(`bench/e2e: ${e instanceof Error ? e.stack : e}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
