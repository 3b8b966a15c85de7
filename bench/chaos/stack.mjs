// The system under test of one chaos scenario: a fresh database (a copy of a migrated
// template on the local PostgreSQL, reached through a TCP proxy that can cut it off), a private
// redis-server, a restartable smtp-sink behind dnsmasq, and mx, queue and delivery each in its
// own process from dist/. Every part can be killed and brought back by the scenarios.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onCleanup } from '../lib/cleanup.mjs';
import { copyDatabase, databaseUrl, dropDatabase, migrateDatabase, withDatabase } from '../lib/database.mjs';
import { startDnsmasq } from '../lib/dnsmasq.mjs';
import { freePort, waitFor } from '../lib/processes.mjs';
import { startRedisServer } from '../lib/redis-server.mjs';
import { startService } from '../lib/services.mjs';
import { startSmtpSink } from '../lib/smtp-sink.mjs';

// @mta/testing's TCP proxy, loaded as TypeScript by Node's type stripping; without the warning
// that the workspace's package.json names no module type.
const quiet = process.emitWarning;
process.emitWarning = (w, ...rest) =>
  String(w).includes('Module type') ? undefined : quiet.call(process, w, ...rest);
const { startTcpProxy } = await import('../../libs/testing/src/tcp-proxy.ts');
process.emitWarning = quiet;

export const DOMAIN = 'bench.example';
const PG_PORT = 5432;

/** A migrated database holding the relay domain, copied for each scenario; and the fake DNS. */
export async function startShared(stamp) {
  const template = `chaos_${stamp}_template`;
  onCleanup(() => dropDatabase(template));
  await migrateDatabase(template);
  await withDatabase(template, (c) =>
    c.query("insert into domains (name, type) values ($1, 'relay')", [DOMAIN]),
  );
  const dns = await startDnsmasq(
    [
      `--mx-host=${DOMAIN},sink.${DOMAIN},10`,
      `--host-record=sink.${DOMAIN},127.0.0.1`,
      // All of .example: the sender's SPF and DMARC lookups (DMARC also asks _dmarc.example)
      // get NXDOMAIN, not a refusal, which mx would answer with 451.
      '--local=/example/',
    ],
    { localDomain: DOMAIN },
  );
  return { template, dns };
}

/** The backing parts of a stack: database (behind its proxy), Redis, the sink and a scratch directory. */
async function startBackends(shared, name, sinkFaults) {
  const db = `chaos_${name.replace(/\W/g, '_')}_${process.pid}`;
  const dropDb = onCleanup(() => dropDatabase(db));
  await copyDatabase(shared.template, db);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'chaos-'));
  chmodSync(tmp, 0o711); // smtp-sink writes its dumps in a directory below, as `nobody`
  const removeTmp = onCleanup(() => rmSync(tmp, { recursive: true, force: true }));
  const sinkPort = await freePort();
  const sinkDir = mkdtempSync(path.join(tmp, 'sink-'));
  const sink = { current: await startSmtpSink({ port: sinkPort, dir: sinkDir, faults: sinkFaults }) };
  const pgProxy = await startTcpProxy(PG_PORT);
  const redis = await startRedisServer();
  return {
    db,
    tmp,
    pgProxy,
    redis,
    sinkPort,
    sinkDir,
    /** The sink again on the same port and dump directory, with smtp-sink fault flags. */
    async restartSink(faults = []) {
      await sink.current.stop();
      sink.current = await startSmtpSink({ port: sinkPort, dir: sinkDir, faults });
    },
    async stop() {
      await sink.current.stop();
      await redis.stop();
      await pgProxy.close();
      await dropDb();
      await removeTmp();
    },
  };
}

/** How each service is started (env and listening addresses) on top of `backends`. */
async function serviceSpecs(shared, backends, serviceEnv) {
  const [mxPort, submissionPort, submissionsPort] = [await freePort(), await freePort(), await freePort()];
  const env = {
    DATABASE_URL: backends.pgProxy.via(databaseUrl(backends.db)),
    REDIS_URL: backends.redis.url,
    MTA_HOSTNAME: `mx.${DOMAIN}`,
    DNS_SERVERS: `${shared.dns.host}:${shared.dns.port}`,
    DELIVERY_PORT: String(backends.sinkPort),
    LOCAL_DELIVERY: `maildir:${path.join(backends.tmp, 'maildir')}`,
    SMTP_DRAIN_MS: '0',
    ...serviceEnv,
  };
  return {
    mx: { smtpPort: mxPort, env: { ...env, MX_LISTEN: `127.0.0.1:${mxPort}` } },
    queue: { env },
    delivery: { env },
    submission: {
      smtpPort: submissionPort,
      env: {
        ...env,
        SUBMISSION_LISTEN: `127.0.0.1:${submissionPort}`,
        SUBMISSIONS_LISTEN: `127.0.0.1:${submissionsPort}`,
      },
    },
  };
}

/** Message-Ids (without <>) by recipient status, straight from PostgreSQL (not through the proxy). */
const statuses = (db) =>
  withDatabase(db, async (c) => {
    const r = await c.query(
      `select trim(both '<>' from m.message_id_header) id, r.status::text status
         from messages m join recipients r on r.message_id = m.id`,
    );
    return new Map(r.rows.map((row) => [row.id, row.status]));
  });

/**
 * Starts one scenario's stack; `serviceEnv` is added to every service's environment, `sinkFaults`
 * are smtp-sink fault flags from the start; `logDir`: append each service's output to <logDir>/<app>.log.
 * `apps`: which of mx, queue, delivery and submission to run.
 */
export async function startStack(
  shared,
  name,
  { apps = ['mx', 'queue', 'delivery'], serviceEnv = {}, sinkFaults = [], logDir = null } = {},
) {
  const backends = await startBackends(shared, name, sinkFaults);
  const specs = await serviceSpecs(shared, backends, serviceEnv);
  const services = {};
  const start = async (app) =>
    (services[app] = await startService(app, { ...specs[app], logDir, stopTimeoutMs: 20_000 }));
  await Promise.all(apps.map(start));
  const listeners = ['mx', 'submission'];
  return {
    ...backends,
    mxPort: specs.mx.smtpPort,
    submissionPort: specs.submission.smtpPort,
    services,
    /** kill -9 of `app`, then the same service again on the same addresses. */
    async killAndRestart(app) {
      const victim = services[app];
      process.kill(victim.pid, 'SIGKILL');
      await waitFor(`${app} to die`, () => victim.exited(), 10_000);
      await start(app);
    },
    statuses: () => statuses(backends.db),
    /** The services that exited without being killed by the scenario (crashes). */
    crashed: () =>
      Object.values(services)
        .filter((s) => s.exited())
        .map((s) => s.name),
    async stop() {
      // The listeners first (no new mail), then the rest together, then the backends.
      await Promise.all(listeners.map((app) => services[app]?.stop()));
      await Promise.all(apps.filter((app) => !listeners.includes(app)).map((app) => services[app].stop()));
      await backends.stop();
    },
  };
}
