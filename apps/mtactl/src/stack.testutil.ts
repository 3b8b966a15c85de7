/**
 * The running stack mtactl's end-to-end specs talk to: the built all-in-one bundle on a fresh
 * database and Redis prefix, a DNS server in this process (DNS_SERVERS), delivery to remote
 * domains through a RELAY_HOST where nothing listens (so that mail stays deferred), and an HTTP
 * proxy in front of the API that records every request mtactl makes. mtactl itself runs as
 * users run it: `apps/mtactl/bin/mtactl.mjs` in a child process.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  collectJsonLogs,
  createTestDatabase,
  createTestRedis,
  freePort,
  startFakeDns,
  until,
  type FakeRecord,
} from '@mta/testing';

const root = path.resolve(__dirname, '../../..');
const allInOne = path.join(root, 'dist/apps/all-in-one/main.js');
export const MTACTL = path.join(root, 'apps/mtactl/bin/mtactl.mjs');
export const ADMIN_TOKEN = 'e2e-mtactl-admin-token-0123456789';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Stack {
  /** The API through the recording proxy: what mtactl is pointed at. */
  url: string;
  submissionPort: number;
  /** The zone the DNS server answers from; push records to publish them. */
  zone: FakeRecord[];
  /** `METHOD /path?query` of every request that went through the proxy. */
  requests: string[];
  /** A directory of this run (config files, HOME). */
  dir: string;
  mtactl(
    args: string[],
    options?: { input?: string; env?: Record<string, string | undefined> },
  ): Promise<Run>;
  /** mtactl as a long-running child (`events --follow`). */
  spawnMtactl(args: string[]): ChildProcess;
  close(): Promise<void>;
}

/** Forwards every request to `target` and notes it. */
async function recordingProxy(target: string, requests: string[]): Promise<http.Server> {
  const upstream = new URL(target);
  const server = http.createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers: request.headers,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forward.on('error', () => response.destroy());
    request.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

export async function startStack(): Promise<Stack> {
  // The DNS server answers from the array it was given: the specs fill it as they go.
  const zone: FakeRecord[] = [];
  const [database, redis, dnsServer] = await Promise.all([
    createTestDatabase(),
    createTestRedis(),
    startFakeDns(zone),
  ]);
  const dir = mkdtempSync(path.join(tmpdir(), 'e2e-mtactl-'));
  const apiPort = await freePort();
  const submissionPort = await freePort();
  const child = spawn(process.execPath, [allInOne], {
    env: {
      ...process.env,
      NODE_ENV: 'development',
      ADMIN_TOKEN,
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      MTA_HOSTNAME: 'mx.mtactl.test',
      ADMIN_LISTEN: `127.0.0.1:${apiPort}`,
      MX_LISTEN: `127.0.0.1:${await freePort()}`,
      SUBMISSION_LISTEN: `127.0.0.1:${submissionPort}`,
      SUBMISSIONS_LISTEN: `127.0.0.1:${await freePort()}`,
      DNS_SERVERS: `127.0.0.1:${dnsServer.port}`,
      // Nothing listens there: remote mail is deferred and stays in the queue.
      RELAY_HOST: `127.0.0.1:${await freePort()}`,
      LOCAL_DELIVERY: `maildir:${path.join(dir, 'maildir')}`,
      POLICY_INBOUND_CHECKS: 'false',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  collectJsonLogs(child.stdout, String(child.pid));
  const api = `http://127.0.0.1:${apiPort}`;
  await until('the API to answer', async () => (await fetch(`${api}/readyz`)).ok, 60_000);
  const requests: string[] = [];
  const proxy = await recordingProxy(api, requests);
  const address = proxy.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const baseEnv = (extra: Record<string, string | undefined> = {}) => {
    const env: Record<string, string | undefined> = {
      ...process.env,
      HOME: dir,
      XDG_CONFIG_HOME: path.join(dir, 'xdg'),
      MTA_URL: url,
      MTA_TOKEN: ADMIN_TOKEN,
      MTACTL_CONFIG: undefined,
      ...extra,
    };
    return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined));
  };
  return {
    url,
    submissionPort,
    zone,
    requests,
    dir,
    mtactl: (args, { input, env } = {}) =>
      new Promise((resolve) => {
        const run = execFile(
          process.execPath,
          [MTACTL, ...args],
          { env: baseEnv(env), encoding: 'utf8', timeout: 60_000 },
          (error, stdout, stderr) =>
            resolve({
              code: error ? (typeof error.code === 'number' ? error.code : null) : 0,
              stdout,
              stderr,
            }),
        );
        run.stdin?.end(input ?? '');
      }),
    spawnMtactl: (args) =>
      spawn(process.execPath, [MTACTL, ...args], { env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] }),
    async close() {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await dnsServer.close();
      await database.drop();
      await redis.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
