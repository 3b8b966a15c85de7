// A private redis-server for a fault run: its own loopback port and directory, AOF on (as a
// production Redis for BullMQ would run), that the script can kill -9 and start again, with its
// data or empty.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onCleanup } from './cleanup.mjs';
import { deadline, freePort, portOpen, waitFor } from './processes.mjs';
import { redisCommand } from './redis.mjs';

export const REDIS_SERVER = '/usr/bin/redis-server';

/**
 * Starts `redis-server` on 127.0.0.1:<free port> with `--dir <tmp> --appendonly yes`. Returns
 * `url`, `kill()` (SIGKILL, no save), `start({ empty })` (again on the same port; `empty`
 * removes the data directory's files first), `command(...args)` (one command through ioredis)
 * and `stop()`.
 */
export async function startRedisServer() {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-redis-'));
  let child = null;
  let exit = Promise.resolve();
  const spawnServer = async () => {
    child = spawn(
      REDIS_SERVER,
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''],
      { stdio: 'ignore' },
    );
    const c = child;
    exit = new Promise((resolve) => c.on('exit', resolve));
    await waitFor(`redis-server on ${port}`, () => c.exitCode === null && portOpen(port), 10_000);
  };
  const kill = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exit;
    }
  };
  const stop = onCleanup(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exit, deadline(5000)]);
    }
    await kill();
    rmSync(dir, { recursive: true, force: true });
  });
  await spawnServer();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    async start({ empty = false } = {}) {
      if (empty) {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
      }
      await spawnServer();
    },
    command: (...args) => redisCommand(`redis://127.0.0.1:${port}`, args),
    stop,
  };
}
