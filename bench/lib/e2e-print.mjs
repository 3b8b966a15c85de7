// The tables bench/e2e/run.mjs prints at the end of a run: rates, CPU by process and per
// delivered message, and (latency mode) the rate against the bound the concurrency allows.
import os from 'node:os';
import { postfixConcurrency, printLatencyHeader, printLatencyTable } from './latency.mjs';
import { fmt, median } from './numbers.mjs';

const pct = (cpuSeconds, wall) => `${fmt((100 * cpuSeconds) / wall)} %`;
const mib = (kb) => `${fmt(kb / 1024)} MiB`;

/** Postfix daemons shown in their own column of the CPU-per-message table; the rest are "other". */
const POSTFIX_DAEMONS = ['smtpd', 'cleanup', 'qmgr', 'trivial-rewrite', 'smtp'];

/**
 * CPU per delivered message (ms), by process: ours (mx, queue, delivery, PostgreSQL, Redis) and
 * Postfix (by daemon, from the sampled children of its master; what children that exited between
 * two samples used is "exited, unattributed").
 */
function printCpuPerMessage(rows) {
  console.log('\nCPU per delivered message (ms of CPU / message), by process:\n');
  const cols = [
    'mx',
    'queue',
    'delivery',
    "PostgreSQL, this run's database",
    'PostgreSQL',
    'Redis',
    ...POSTFIX_DAEMONS,
    'postfix other',
    'exited, unattributed',
    'system total',
  ];
  console.log(`| system | ${cols.join(' | ')} |`);
  console.log(`| --- |${cols.map(() => ' ---: |').join('')}`);
  for (const { label, kind, run: r } of rows) {
    const ms = (x) => (x === undefined ? '' : fmt((1000 * x) / r.messages, 2));
    const c = r.cpu;
    if (kind !== 'postfix') {
      const total = (kind === 'aio' ? c.aio : c.mx + c.queue + c.delivery) + c.pg + c.redis;
      const cells = [
        c.mx,
        c.queue,
        c.delivery,
        c.pgOurs,
        c.pg,
        c.redis,
        ...POSTFIX_DAEMONS.map(() => undefined),
        undefined,
        undefined,
        total,
      ];
      console.log(`| ${label} | ${cells.map(ms).join(' | ')} |`);
      continue;
    }
    const by = { ...(r.postfixByComm ?? {}) };
    const named = POSTFIX_DAEMONS.map((d) => by[d] ?? 0);
    for (const d of POSTFIX_DAEMONS) delete by[d];
    const other = Object.values(by).reduce((a, b) => a + b, 0);
    const unattributed = c.postfix - named.reduce((a, b) => a + b, 0) - other;
    const cells = [
      undefined,
      undefined,
      undefined,
      undefined,
      c.pg,
      c.redis,
      ...named,
      other,
      unattributed,
      c.postfix,
    ];
    console.log(`| ${label} | ${cells.map(ms).join(' | ')} |`);
  }
  console.log(
    "\nours: system total = mx + queue + delivery (all-in-one: its process and all its children) + PostgreSQL + Redis (the whole servers, so also anyone else's use of them; " +
      '"this run\'s database": the backends serving it, part of PostgreSQL); postfix: its master with every child, live or exited ' +
      '(PostgreSQL and Redis in its row are other users of those servers, not in its total). Postfix by daemon: the children of its master sampled every 200 ms.',
  );
}

/** Prints the tables of a finished run. `rows`: [{kind, workers, label, runs}]; `o`: the run's settings. */
export function printReport(rows, o) {
  const load1 = os.loadavg();
  const chosen = (row) => {
    const m = median(row.runs.map((r) => r.rate));
    return row.runs.reduce((best, r) => (Math.abs(r.rate - m) < Math.abs(best.rate - m) ? r : best));
  };
  const rateOf = (kind, workers) => {
    const row = rows.find((r) => r.kind === kind && (kind === 'postfix' || r.workers === workers));
    return row ? median(row.runs.map((r) => r.rate)) : NaN;
  };
  console.log(
    `\nnode ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0].model}), load average ${o.load0
      .map((x) => x.toFixed(2))
      .join(' ')} at start, ${load1.map((x) => x.toFixed(2)).join(' ')} at end`,
  );
  if (o.latency) printLatencyHeader(o);
  else
    console.log(
      `${fmt(o.messages)} messages of ${fmt(o.size)} bytes, 1 recipient each (${o.rcpt}, a relay domain), from smtp-source -s ${o.sessions} -d; ` +
        `${o.warmup} warm-up messages delivered first (not counted); ${o.runs} run(s) per row, median shown. ` +
        `End to end: start of smtp-source → the sink's ${fmt(o.messages)}th message. Every system gets a fresh smtp-sink (-c -d) on loopback.`,
    );
  console.log(
    `ours: dist/apps/{mx,queue,delivery}/main.js, one process each (NODE_ENV=production LOG_LEVEL=${o.logLevel} DELIVERY_CONCURRENCY=${o.concurrency} POLICY_INBOUND_CHECKS=false), ` +
      'fresh database and Redis prefix per run; the MX of each relay domain from dnsmasq on loopback (TTL 300 s, cached), DELIVERY_PORT = the sink. ' +
      (o.aioWorkers
        ? `all-in-one: dist/apps/all-in-one/main.js as npm start runs it, the same settings, supervised (ALL_IN_ONE_DELIVERY_WORKERS=${o.aioWorkers}) and/or ALL_IN_ONE_MODE=single. `
        : '') +
      `postfix: private instance, ${o.latency ? 'relay_domains + transport_maps [<sink address>]:<port> per domain' : 'relay_domains + relayhost = [127.0.0.1]:<sink>'}, default concurrency (20 per destination, at most 100 smtp processes).\n`,
  );
  const p = rateOf('postfix');
  const postfixRow = rows.find((r) => r.kind === 'postfix');
  const pAccept = postfixRow ? median(postfixRow.runs.map((r) => r.acceptRate)) : NaN;
  const o1 = rateOf('ours', 1);
  const o2 = rateOf('ours', 2);
  console.log(
    '| system | end-to-end msg/s | end-to-end time | accept phase | accept msg/s | delivered when accept ended | ratio |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const row of rows) {
    const r = chosen(row);
    const ratio =
      row.kind === 'postfix'
        ? ''
        : row.kind === 'aio'
          ? `/postfix: end to end ${fmt(median(row.runs.map((x) => x.rate)) / p, 2)}×, accept ${fmt(median(row.runs.map((x) => x.acceptRate)) / pAccept, 2)}×`
          : row.workers === 1
          ? `ours(1)/postfix ${fmt(o1 / p, 2)}×`
          : row.workers === 2
            ? `ours(2)/ours(1) ${fmt(o2 / o1, 2)}×, ours(2)/postfix ${fmt(o2 / p, 2)}×`
            : `ours(${row.workers})/postfix ${fmt(median(row.runs.map((x) => x.rate)) / p, 2)}×`;
    console.log(
      `| ${row.label} | ${fmt(median(row.runs.map((x) => x.rate)))} | ${fmt(r.wall, 1)} s | ${fmt(r.acceptSeconds, 1)} s | ` +
        `${fmt(r.acceptRate)} | ${fmt(r.deliveredAtAcceptEnd)} | ${ratio} |`,
    );
  }
  console.log(
    '\nCPU over the end-to-end time of that run (% of one core; 200 % is the whole machine) and CPU per message:\n',
  );
  console.log(
    '| system | mx | queue | delivery | all-in-one (all) | PostgreSQL | Redis | Postfix (all) | smtp-sink | smtp-source | dnsmasq | machine busy | system CPU/msg | peak RSS |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const row of rows) {
    const r = chosen(row);
    const c = r.cpu;
    const ours = row.kind !== 'postfix';
    const perService = row.kind === 'ours' || row.mode === 'supervise';
    const stack =
      row.kind === 'ours' ? c.mx + c.queue + c.delivery + c.pg + c.redis : row.kind === 'aio' ? c.aio + c.pg + c.redis : c.postfix;
    const rss = Object.entries(r.peakRssKb)
      .map(([n, kb]) => `${n} ${mib(kb)}`)
      .join(', ');
    const cell = (x) => (perService ? pct(x, r.wall) : '');
    const aioCell = row.kind === 'aio' ? pct(c.aio, r.wall) : '';
    console.log(
      `| ${row.label} | ${cell(c.mx)} | ${cell(c.queue)} | ${cell(c.delivery)} | ${aioCell} | ${pct(c.pg, r.wall)} | ${pct(c.redis, r.wall)} | ` +
        `${ours ? '' : pct(c.postfix, r.wall)} | ${pct(c.sink, r.wall)} | ${pct(c.source, r.wall)} | ${ours ? pct(c.dns, r.wall) : ''} | ` +
        `${pct(c.machine, r.wall)} | ${fmt((1000 * stack) / r.messages, 2)} ms | ${rss || 'n/a'} |`,
    );
  }
  console.log(
    '\nsystem CPU/msg: ours = mx + queue + delivery + PostgreSQL + Redis; all-in-one = its process and all its children (supervised: ' +
      'mx, submission, queue, policy, admin-api, delivery workers) + PostgreSQL + Redis; postfix = its master with live and reaped children ' +
      '(smtpd, cleanup, qmgr, trivial-rewrite, smtp...). PostgreSQL and Redis: the whole servers (postmaster and redis-server ' +
      'with their live and exited children), whoever they worked for (also during the Postfix row). Machine busy: every process, including the bench script and anything else running. ' +
      'Peak RSS: VmHWM of each of our processes at the end of the run (warm-up included).',
  );
  for (const row of rows)
    for (const [i, r] of row.runs.entries()) {
      const f = r.finish ?? {};
      const extra =
        row.kind !== 'postfix'
          ? `PostgreSQL backends of this run's database ${pct(r.cpu.pgOurs, r.wall)}; ` +
            (r.pgTransactionsPerMessage === undefined
              ? ''
              : `PostgreSQL transactions on it per delivered message ${fmt(r.pgTransactionsPerMessage, 2)}; `) +
            `all recipients marked delivered in our database ${fmt(r.settledSeconds, 1)} s after the start; delivery jobs ` +
            `${Object.entries(f.jobs ?? {})
              .map(([k, v]) => `${k} ${fmt(v)}`)
              .join(', ')}; mean batch ${Object.entries(f.batches ?? {})
              .map(([k, v]) => `${k} ${fmt(v, 1)}`)
              .join(', ')}; events ${Object.entries(f.state?.events ?? {})
              .map(([k, v]) => `${k} ${fmt(v)}`)
              .join(
                ', ',
              )}; stop ${(f.stopped ?? []).map((s) => `${s.name} ${fmt(s.ms / 1000, 1)} s`).join(', ')}`
          : `Postfix log: ${f.sent} status=sent, queue ${f.drained ? 'empty' : 'NOT empty'} at the end`;
      console.log(
        `  ${row.label}, run ${i + 1}: ${fmt(r.rate)} msg/s; sink ${r.sinkCount} messages, ${r.distinct} distinct Message-Ids ` +
          `(${o.warmup} warm-up + ${o.messages}); ${extra}.`,
      );
      for (const s of r.suspect) console.log(`  WARNING (${row.label}, run ${i + 1}): suspect run: ${s}`);
    }
  printCpuPerMessage(rows.map((row) => ({ label: row.label, kind: row.kind, run: chosen(row) })));
  if (o.latency) {
    const postfix = postfixConcurrency();
    printLatencyTable(
      rows.map((row) => ({
        label: row.label,
        run: chosen(row),
        inFlightConfigured:
          row.kind !== 'postfix' ? row.workers * Number(o.concurrency) : postfix.default_process_limit,
      })),
      { ...o.latency, concurrency: o.concurrency, postfix },
    );
  }
}
