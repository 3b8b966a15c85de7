#!/usr/bin/env node
// Chaos suite (issue 17): for each fault scenario, a fresh stack (database, private Redis, mx,
// queue and delivery processes, a recording smtp-sink behind a fake DNS), a load of uniquely
// identified messages into mx, the fault injected under load, then a wait for every message
// that got a 250 to reach the sink. Prints accepted / delivered / lost / duplicates / stuck and
// the time to drain per scenario; exits 1 if any accepted message was lost.
// Run from the repository root, as root:  node bench/chaos/run.mjs [--scenario a,b] [--messages N]
// See bench/README.md ("Chaos"). Not part of npm test or CI.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { argValue, argWords, hasFlag } from '../lib/args.mjs';
import { runMain } from '../lib/cleanup.mjs';
import { sleep } from '../lib/processes.mjs';
import { buildApps, errorLogLines } from '../lib/services.mjs';
import { sinkDumps } from '../lib/smtp-sink.mjs';
import { newLoadResult, sendLoad } from '../lib/smtp-load.mjs';
import { SCENARIOS } from './scenarios.mjs';
import { DOMAIN, startShared, startStack } from './stack.mjs';

const MESSAGES = Number(argValue('--messages', '600'));
const SESSIONS = Number(argValue('--sessions', '10'));
/** Wait after the load for the accepted messages to arrive: 180 s, or what the scenario asks; the option wins. */
const DRAIN_OPTION = argValue('--drain-seconds', null);
const drainSeconds = (scenario) => Number(DRAIN_OPTION ?? scenario.drainSeconds ?? 180);
/** Extra environment for every service, e.g. --service-env "LOG_LEVEL=info FOO=1". */
const SERVICE_ENV = Object.fromEntries(argWords('--service-env').map((w) => w.split(/=(.*)/s).slice(0, 2)));
const ONLY = argValue('--scenario', null)?.split(',');
const SKIP_BUILD = hasFlag('--no-build');
/** Each service's output goes to <dir>/<scenario>/<app>.log (by default a temporary directory, kept). */
const LOG_DIR = argValue('--service-log-dir', null) ?? mkdtempSync(path.join(os.tmpdir(), 'chaos-logs-'));
const stamp = `${Date.now().toString(36)}_${process.pid}`;
const log = (line) => process.stderr.write(`${line}\n`);

/** How many complete dumps (ending with the message's trailer line) the sink holds per Message-Id. */
function deliveries(sinkDir) {
  const seen = new Map();
  for (const text of sinkDumps(sinkDir)) {
    const id = /^end-of-message (\S+)$/m.exec(text)?.[1];
    if (id) seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  return seen;
}

/** Polls the sink until every accepted id is there or `seconds` pass; returns the drain time or null. */
async function drain(stack, accepted, seconds, loadEnd) {
  const until = loadEnd + seconds * 1000;
  for (;;) {
    const seen = deliveries(stack.sinkDir);
    if ([...accepted].every((id) => seen.has(id))) return (Date.now() - loadEnd) / 1000;
    if (Date.now() > until) return null;
    await sleep(500);
  }
}

/** Runs the load, fires the fault when a third of it is accepted, waits for the load to end. */
async function loadWithFault(stack, scenario) {
  const ids = Array.from({ length: MESSAGES }, (_, i) => `${scenario.name}-${i}.${stamp}@chaos.${DOMAIN}`);
  const result = newLoadResult();
  const loadDone = sendLoad(stack.mxPort, ids, {
    sessions: SESSIONS,
    from: `sender@remote.example`,
    to: `rcpt@${DOMAIN}`,
    result,
    stopAt: Date.now() + 300_000,
  });
  while (result.accepted.size + result.refused.size < MESSAGES / 3) await sleep(20);
  const t0 = Date.now();
  await scenario.fault(stack);
  const faultSeconds = (Date.now() - t0) / 1000;
  await loadDone;
  return { result, faultSeconds };
}

async function runScenario(shared, scenario) {
  log(`\n== ${scenario.name}: ${scenario.what}`);
  const stack = await startStack(shared, scenario.name, {
    serviceEnv: SERVICE_ENV,
    sinkFaults: scenario.sinkFaults,
    logDir: path.join(LOG_DIR, scenario.name),
  });
  const started = Date.now();
  const { result, faultSeconds } = await loadWithFault(stack, scenario);
  const loadEnd = Date.now();
  log(
    `   load done in ${((loadEnd - started) / 1000).toFixed(1)} s: ${result.accepted.size} accepted, ${result.refused.size} refused; fault took ${faultSeconds.toFixed(1)} s`,
  );
  if (result.errors.size)
    log(`   client errors: ${[...result.errors].map(([k, n]) => `${n}× ${k}`).join('; ')}`);
  const drained = await drain(stack, result.accepted, drainSeconds(scenario), loadEnd);
  const row = await count(stack, scenario, result, drained);
  row.crashed = stack.crashed().join(' ');
  await stack.stop();
  row.logs = errorLogLines(path.join(LOG_DIR, scenario.name));
  row['error log lines'] = [...row.logs.values()].reduce((a, n) => a + n, 0);
  log(`   ${JSON.stringify({ ...row, logs: undefined })}`);
  return row;
}

/** The row of the table: what the client, the sink and the database say at the end. */
async function count(stack, scenario, result, drained) {
  const seen = deliveries(stack.sinkDir);
  const statuses = await stack.statuses();
  const undelivered = [...result.accepted].filter((id) => !seen.has(id));
  const stuck = undelivered.filter((id) => ['queued', 'deferred'].includes(statuses.get(id)));
  const lost = undelivered.filter((id) => !stuck.includes(id));
  if (lost.length)
    log(
      `   lost (database status): ${lost
        .slice(0, 10)
        .map((id) => `${id} (${statuses.get(id) ?? 'absent'})`)
        .join(', ')}`,
    );
  return {
    scenario: scenario.name,
    accepted: result.accepted.size,
    refused: result.refused.size,
    delivered: [...result.accepted].filter((id) => seen.has(id)).length,
    unacknowledged: [...seen.keys()].filter((id) => !result.accepted.has(id)).length,
    lost: lost.length,
    duplicates: [...seen.values()].filter((n) => n > 1).length,
    stuck: stuck.length,
    drain: drained === null ? `> ${drainSeconds(scenario)} s` : `${drained.toFixed(1)} s`,
  };
}

const COLUMNS = [
  'scenario',
  'accepted',
  'refused',
  'delivered',
  'unacknowledged',
  'lost',
  'duplicates',
  'stuck',
  'drain',
  'crashed',
  'error log lines',
];

function printTable(rows) {
  const cells = rows.map((r) => COLUMNS.map((c) => String(r[c] ?? '')));
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (values) =>
    `| ${values.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join(' | ')} |`;
  console.log(line(COLUMNS));
  console.log(`| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`);
  for (const row of cells) console.log(line(row));
}

async function main() {
  const scenarios = SCENARIOS.filter((s) => !ONLY || ONLY.includes(s.name));
  if (!scenarios.length)
    throw new Error(`no scenario among ${ONLY}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  if (!SKIP_BUILD) await buildApps(['mx', 'queue', 'delivery']);
  const shared = await startShared(stamp);
  const rows = [];
  for (const scenario of scenarios) rows.push(await runScenario(shared, scenario));
  console.log(`\nChaos: ${MESSAGES} messages per scenario, ${SESSIONS} sessions\n`);
  printTable(rows);
  console.log(`\nError, fatal and non-JSON lines in the services' logs (${LOG_DIR}):`);
  for (const row of rows)
    for (const [key, n] of row.logs) console.log(`  ${row.scenario}: ${n}× ${key.slice(0, 200)}`);
  const lost = rows.reduce((a, r) => a + r.lost, 0);
  if (lost) console.log(`\n${lost} accepted message(s) lost`);
  return lost ? 1 : 0;
}

runMain(main);
