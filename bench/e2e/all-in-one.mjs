// The all-in-one rows of bench/e2e (issue 21): `dist/apps/all-in-one/main.js` as `npm start`
// runs it, either supervising one process per service (ALL_IN_ONE_MODE=supervise, the default:
// mx, submission, queue, policy, admin-api and `workers` delivery processes) or every module in
// one process (single). Same database template, Redis, dnsmasq and sink as the other rows.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { onCleanup } from '../lib/cleanup.mjs';
import { copyDatabase, databaseUrl, dropDatabase } from '../lib/database.mjs';
import { root } from '../lib/paths.mjs';
import { cpuByCmdline, familyCpuSeconds, statusKb } from '../lib/proc-cpu.mjs';
import { deadline, freePort, portOpen, waitFor } from '../lib/processes.mjs';
import { REDIS_URL, deleteRedisKeys } from '../lib/redis.mjs';

const MAIN = path.join(root, 'dist/apps/all-in-one/main.js');
/** Our children's processes, by service, found by their bundle's path (this checkout's only). */
const childrenOf = (service) => cpuByCmdline(new RegExp(`${root}/dist/apps/${service}/main\\.js`));

/** Spawns all-in-one; resolves once its /readyz (every child, in supervise mode) answers 200. */
async function spawnAllInOne(env, adminPort, mxPort, execArgv) {
  const child = spawn(process.execPath, [...execArgv, MAIN], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d) => (output = (output + d).slice(-20_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = false;
  const exit = new Promise((resolve) => child.on('exit', () => ((exited = true), resolve())));
  let killed = false;
  const stop = onCleanup(async () => {
    if (exited) return;
    child.kill('SIGTERM');
    await Promise.race([exit, deadline(40_000)]);
    if (!exited) ((killed = true), child.kill('SIGKILL'), await exit);
  });
  try {
    const ready = async () => !exited && (await fetch(`http://127.0.0.1:${adminPort}/readyz`)).ok;
    await waitFor('all-in-one /readyz', ready, 120_000);
    await waitFor('all-in-one SMTP port', () => portOpen(mxPort), 10_000);
  } catch (e) {
    await stop();
    throw new Error(`all-in-one did not start: ${e.message}\n${output}`);
  }
  return { pid: child.pid, output: () => output, stop, killed: () => killed };
}

/**
 * all-in-one on a fresh copy of `template` and a fresh Redis prefix; the system object
 * bench/e2e/run.mjs measures (port, cpu, peakRssKb, finish).
 */
export async function startAllInOne({ runId, mode, workers, template, stamp, common, execArgv }) {
  const db = `bench_e2e_${stamp}_${runId}`;
  const prefix = `bench-e2e-${stamp}-${runId}`;
  const dropDb = onCleanup(() => dropDatabase(db));
  const dropKeys = onCleanup(() => deleteRedisKeys(prefix));
  await copyDatabase(template, db);
  const [mxPort, adminPort] = [await freePort(), await freePort()];
  const env = {
    ...common,
    DATABASE_URL: databaseUrl(db),
    REDIS_URL,
    REDIS_PREFIX: prefix,
    ALL_IN_ONE_MODE: mode,
    ALL_IN_ONE_DELIVERY_WORKERS: String(workers),
    ADMIN_TOKEN: `bench-${stamp}-token-0123456789abcdef`,
    MX_LISTEN: `127.0.0.1:${mxPort}`,
    SUBMISSION_LISTEN: `127.0.0.1:${await freePort()}`,
    SUBMISSIONS_LISTEN: `127.0.0.1:${await freePort()}`,
    ADMIN_LISTEN: `127.0.0.1:${adminPort}`,
  };
  const aio = await spawnAllInOne(env, adminPort, mxPort, execArgv);
  const supervised = mode === 'supervise';
  const name = supervised ? `all-in-one, supervised, ${workers} delivery worker${workers > 1 ? 's' : ''}` : 'all-in-one, single process';
  return {
    name,
    kind: 'aio',
    mode,
    workers,
    port: mxPort,
    db,
    cpu: () => ({
      pgOurs: cpuByCmdline(new RegExp(`^postgres: .* ${db} `)),
      aio: familyCpuSeconds(aio.pid),
      ...(supervised ? { mx: childrenOf('mx'), queue: childrenOf('queue'), delivery: childrenOf('delivery') } : {}),
    }),
    peakRssKb: () => peakRss(aio.pid, supervised),
    async finish() {
      const output = aio.output();
      const t0 = Date.now();
      await aio.stop();
      const stopped = [{ name: 'all-in-one', ms: Date.now() - t0, killed: aio.killed() }];
      await dropDb();
      await dropKeys();
      return { outputs: [['all-in-one', output]], stopped };
    },
  };
}

/** VmHWM of the process, and in supervise mode of its children by service (summed per service). */
function peakRss(pid, supervised) {
  const own = { 'all-in-one': statusKb(pid, 'VmHWM') };
  if (!supervised) return own;
  for (const service of ['mx', 'submission', 'queue', 'policy', 'admin-api', 'delivery'])
    for (const child of childrenOf(service).keys())
      own[service] = (own[service] ?? 0) + statusKb(Number(child), 'VmHWM');
  return own;
}
