#!/usr/bin/env node
// A bounded network fuzzer for our SMTP listeners (mx, submission before AUTH), on loopback:
// mutated command lines, random bytes, long lines, pipelined bursts, connections cut
// mid-command, BDAT framing and DATA content (bench/chaos/fuzz-cases.mjs). After each batch
// every service must still run and answer a clean session (mx: a whole message, 250); at the
// end their logs must hold no error, fatal or non-JSON line. Exits 1 on a crash, hang or error.
// Run from the repository root, as root:  node bench/chaos/fuzz.mjs [--seed N] [--cases N]
// See bench/README.md ("Chaos"). Not part of npm test or CI.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { argValue, hasFlag } from '../lib/args.mjs';
import { runMain } from '../lib/cleanup.mjs';
import { buildApps, errorLogLines } from '../lib/services.mjs';
import { sendLoad } from '../lib/smtp-load.mjs';
import { makeCase } from './fuzz-cases.mjs';
import { DOMAIN, startShared, startStack } from './stack.mjs';

const SEED = Number(argValue('--seed', '17'));
const CASES = Number(argValue('--cases', '3000'));
/** Stop starting batches after this long (the run stays under about this plus one batch). */
const SECONDS = Number(argValue('--seconds', '75'));
const CONCURRENCY = Number(argValue('--concurrency', '20'));
const BATCH = Number(argValue('--batch', '200'));
const SKIP_BUILD = hasFlag('--no-build');
const stamp = `${Date.now().toString(36)}_${process.pid}`;
const log = (line) => process.stderr.write(`${line}\n`);

/** One case on one connection: greeting, the writes, then wait for the server to answer or close. */
function playCase(port, { writes, destroy }) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let replies = '';
    let greeted = false;
    let answered = false;
    let settled = false;
    let timer = null;
    const finish = (outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    // Done when the server has said nothing for `ms` (it may be waiting for the rest of a line).
    const quietFor = (ms) => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(answered ? 'answered' : 'no reply, connection open'), ms);
    };
    socket.on('error', () => undefined);
    socket.on('close', () => finish(greeted ? 'closed by server' : 'no greeting'));
    socket.on('data', (d) => {
      replies += d.toString('latin1');
      if (greeted) return ((answered = true), quietFor(1500));
      if (!replies.includes('\r\n')) return;
      greeted = true;
      if (!replies.startsWith('220')) return finish(`greeting ${replies.slice(0, 3)}`);
      for (const w of writes) if (!socket.destroyed) socket.write(w);
      if (destroy) return finish('cut by client');
      quietFor(1500);
    });
    timer = setTimeout(() => finish('no greeting'), 10_000);
  });
}

/** Whether `port` still greets and answers EHLO (submission: nothing more without AUTH). */
async function greets(port) {
  const outcome = await playCase(port, {
    writes: [Buffer.from('EHLO probe.example\r\nQUIT\r\n')],
    destroy: false,
  });
  return outcome === 'closed by server' || outcome === 'answered';
}

/** After a batch: every process alive, both listeners greet, mx takes a whole message. */
async function healthy(stack, batch) {
  const dead = stack.crashed();
  if (dead.length) return `crashed: ${dead.join(', ')}`;
  for (const port of [stack.mxPort, stack.submissionPort])
    if (!(await greets(port))) return `port ${port} does not greet`;
  const id = `probe-${batch}.${stamp}@fuzz.${DOMAIN}`;
  const sent = await sendLoad(stack.mxPort, [id], {
    sessions: 1,
    from: 'sender@remote.example',
    to: `rcpt@${DOMAIN}`,
    stopAt: Date.now() + 20_000,
  });
  return sent.accepted.has(id) ? null : `clean message not accepted: ${[...sent.errors.keys()].join('; ')}`;
}

async function fuzz(stack) {
  const targets = [stack.mxPort, stack.submissionPort];
  const outcomes = new Map();
  const kinds = new Map();
  const problems = [];
  const until = Date.now() + SECONDS * 1000;
  let index = 0;
  for (let batch = 0; index < CASES && Date.now() < until && problems.length === 0; batch++) {
    const end = Math.min(CASES, index + BATCH);
    const next = () => (index < end ? index++ : null);
    const worker = async () => {
      for (let i = next(); i !== null; i = next()) {
        const c = makeCase(SEED, i);
        const outcome = await playCase(targets[i % targets.length], c);
        kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        if (outcome === 'no greeting') problems.push(`case ${i} (${c.kind}): no greeting within 10 s`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const problem = await healthy(stack, batch);
    if (problem) problems.push(`after batch ${batch} (cases up to ${index - 1}): ${problem}`);
    log(`  ${index} cases, ${JSON.stringify(Object.fromEntries(outcomes))}`);
  }
  return { cases: index, outcomes, kinds, problems };
}

async function main() {
  if (!SKIP_BUILD) await buildApps(['mx', 'submission']);
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'chaos-fuzz-logs-'));
  const shared = await startShared(stamp);
  const stack = await startStack(shared, 'fuzz', { apps: ['mx', 'submission'], logDir });
  const t0 = Date.now();
  const result = await fuzz(stack);
  await stack.stop();
  const bad = errorLogLines(logDir);
  const badCount = [...bad.values()].reduce((a, n) => a + n, 0);
  console.log(
    `\nFuzz: seed ${SEED}, ${result.cases} cases in ${((Date.now() - t0) / 1000).toFixed(0)} s on mx and submission (${CONCURRENCY} at a time)`,
  );
  console.log(`  cases by kind: ${JSON.stringify(Object.fromEntries(result.kinds))}`);
  console.log(`  outcomes: ${JSON.stringify(Object.fromEntries(result.outcomes))}`);
  console.log(`  crashes/hangs: ${result.problems.length ? result.problems.join('; ') : 'none'}`);
  console.log(`  error, fatal or non-JSON log lines: ${badCount}`);
  for (const [key, n] of bad) console.log(`    ${n}× ${key}`);
  if (result.problems.length || badCount) {
    console.log(`  service logs kept in ${logDir}`);
    return 1;
  }
  rmSync(logDir, { recursive: true, force: true });
  return 0;
}

runMain(main);
