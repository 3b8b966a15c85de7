#!/usr/bin/env node
// Policy round trip benchmark (issue #14): what one policy question costs an SMTP service, over
// the `policy` BullMQ queue with the answer published on the asker's channel (PolicyClient, what
// mx and submission use), against BullMQ's own request/response (job.waitUntilFinished through
// QueueEvents). The policy worker runs in a child process, with the MX message rate on, so each
// answer is one Lua call on Redis as in production.
// Run from the repository root:  node bench/policy/run.mjs [--questions 3000] [--concurrency 50] [--runs 3]
// See bench/README.md. Prints a table; not a test.
import { fork } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { argValue } from '../lib/args.mjs';
import { fmt, median, percentile } from '../lib/numbers.mjs';
import { root } from '../lib/paths.mjs';
import { REDIS_URL, deleteRedisKeys } from '../lib/redis.mjs';

const QUESTIONS = Number(argValue('--questions', '3000'));
const CONCURRENCY = Number(argValue('--concurrency', '50'));
const RUNS = Number(argValue('--runs', '3'));
const TIMEOUT_MS = 2000;
const role = process.argv[2] === 'worker' ? 'worker' : 'bench';
const outDir = path.join(root, 'node_modules/.cache/bench-policy');
const bundle = path.join(outDir, 'policy.cjs');

const SETTINGS_CONFIG = {
  DNSBL_ZONES: [],
  DNSWL_ZONES: [],
  GREYLISTING: false,
  GREYLIST_DELAY_S: 300,
  GREYLIST_TTL_DAYS: 36,
  MX_RATE_CONNECTIONS_PER_MIN: 0,
  MX_RATE_MESSAGES_PER_MIN: 1_000_000,
  MX_RATE_RECIPIENTS_PER_MIN: 0,
  SUBMISSION_MESSAGES_PER_HOUR: 0,
  SUBMISSION_MESSAGES_PER_DAY: 0,
  SUBMISSION_RECIPIENTS_PER_HOUR: 0,
  SUBMISSION_RECIPIENTS_PER_DAY: 0,
};

async function buildBundle() {
  const { build } = await import('rolldown');
  mkdirSync(outDir, { recursive: true });
  await build({
    input: path.join(root, 'libs/policy/src/index.ts'),
    platform: 'node',
    tsconfig: path.join(root, 'tsconfig.base.json'),
    // npm packages stay imports (resolved from the repository's node_modules); @mta/* is bundled.
    external: (id) => !/^(\.|\/|@mta\/|@oxc-project\/runtime)/.test(id),
    // CommonJS: the bundle's imports of npm packages (e.g. mailauth's deep paths) resolve as in the apps.
    output: { file: bundle, format: 'cjs' },
    logLevel: 'silent',
  });
}

async function runWorker(prefix) {
  const policy = await import(pathToFileURL(bundle).href);
  const { Redis } = await import('ioredis');
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const store = new policy.RedisPolicyStore(redis, prefix);
  const worker = policy.startPolicyWorker({
    connection,
    publisher: redis,
    prefix,
    settings: policy.policySettings(SETTINGS_CONFIG),
    timeoutMs: TIMEOUT_MS,
    checks: {
      resolver: { resolve4: async () => [], resolveTxt: async () => [] },
      greylist: store,
      counter: store,
      accountLimits: async () => null,
      now: Date.now,
    },
  });
  await worker.waitUntilReady();
  const start = process.cpuUsage();
  process.send({ ready: true });
  process.on('message', async (m) => {
    if (m === 'cpu') {
      const u = process.cpuUsage(start);
      process.send({ cpu: (u.user + u.system) / 1e6 });
    }
    if (m === 'stop') {
      await worker.close();
      connection.disconnect();
      redis.disconnect();
      process.exit(0);
    }
  });
}

/** Asks `n` questions, `concurrency` at a time; latencies in ms, and client CPU seconds. */
async function drive(ask, n, concurrency) {
  const latencies = [];
  let next = 0;
  let failed = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        const answer = await ask(i);
        latencies.push(performance.now() - t);
        if (!answer) failed++;
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { latencies, wall, failed, clientCpu: (cpu.user + cpu.system) / 1e6 };
}

async function main() {
  await buildBundle();
  const prefix = `bench-policy-${randomBytes(4).toString('hex')}`;
  const child = fork(new URL(import.meta.url).pathname, ['worker', prefix], { stdio: 'inherit' });
  await new Promise((resolve) => child.once('message', resolve));
  const workerCpu = () =>
    new Promise((resolve) => {
      child.once('message', (m) => resolve(m.cpu));
      child.send('cpu');
    });

  const policy = await import(pathToFileURL(bundle).href);
  const queue = await import('bullmq');
  const { Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  await new Promise((resolve) => redis.once('ready', resolve));
  const subscriber = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  // JobProducer's shape, as the SMTP services use it (validated enqueue).
  const q = new queue.Queue('policy', { connection: redis, prefix });
  const producer = {
    enqueue: (_name, data, opts) => q.add('policy', data, opts).then((j) => j.id),
  };
  const client = new policy.PolicyClient(producer, subscriber, prefix, TIMEOUT_MS);
  await client.start();
  const events = new queue.QueueEvents('policy', {
    connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
    prefix,
  });
  await events.waitUntilReady();

  const question = (i) => ({
    stage: 'mail',
    service: 'mx',
    clientAddress: `10.0.${(i >> 8) & 255}.${i & 255}`,
  });
  const mechanisms = {
    'pub/sub answer (PolicyClient)': (i) => client.ask(question(i)),
    'QueueEvents waitUntilFinished': async (i) => {
      // Completed jobs kept a minute: waitUntilFinished first looks the job up, and a job that
      // finished and was removed before it looks is an error, not an answer.
      const job = await q.add('policy', question(i), { removeOnComplete: { age: 60 }, removeOnFail: true });
      try {
        return await job.waitUntilFinished(events, TIMEOUT_MS);
      } catch {
        return null;
      }
    },
  };

  // Interleaved runs (A, B, A, B, ...), the median of each column counts: other jobs on the
  // machine come and go, and a run of one mechanism should not meet a quieter machine than the other's.
  const runs = [];
  for (const ask of Object.values(mechanisms)) await drive(ask, 200, 10); // warm-up: JIT, connections
  for (let run = 0; run < RUNS; run++) {
    for (const [name, ask] of Object.entries(mechanisms)) {
      for (const concurrency of [1, CONCURRENCY]) {
        const w0 = await workerCpu();
        const r = await drive(ask, concurrency === 1 ? Math.min(QUESTIONS, 1000) : QUESTIONS, concurrency);
        const w1 = await workerCpu();
        const n = r.latencies.length;
        runs.push({
          name,
          concurrency,
          rate: n / r.wall,
          p50: percentile(r.latencies, 0.5),
          p99: percentile(r.latencies, 0.99),
          clientUs: (r.clientCpu / n) * 1e6,
          workerUs: ((w1 - w0) / n) * 1e6,
          failed: r.failed,
        });
        console.error(
          `run ${run + 1} ${name} x${concurrency}: ${fmt(n / r.wall)} q/s, p50 ${fmt(percentile(r.latencies, 0.5), 2)} ms`,
        );
      }
    }
  }

  console.log(
    `\npolicy round trip: ${QUESTIONS} questions per run (1000 one at a time), median of ${RUNS} interleaved runs\n`,
  );
  console.log(
    '| mechanism | in flight | questions/s | p50 ms | p99 ms | client CPU µs/q | worker CPU µs/q | unanswered (all runs) |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const name of Object.keys(mechanisms))
    for (const concurrency of [1, CONCURRENCY]) {
      const rs = runs.filter((r) => r.name === name && r.concurrency === concurrency);
      const m = (k) => median(rs.map((r) => r[k]));
      const failed = rs.reduce((sum, r) => sum + r.failed, 0);
      console.log(
        `| ${name} | ${concurrency} | ${fmt(m('rate'))} | ${fmt(m('p50'), 2)} | ${fmt(m('p99'), 2)} | ${fmt(m('clientUs'))} | ${fmt(m('workerUs'))} | ${failed} |`,
      );
    }

  child.send('stop');
  client.close();
  await events.close();
  await q.close();
  redis.disconnect();
  await deleteRedisKeys(prefix);
  rmSync(outDir, { recursive: true, force: true });
  process.exit(0); // BullMQ's QueueEvents keeps a blocking connection of its own
}

if (role === 'worker') await runWorker(process.argv[3]);
else await main();
