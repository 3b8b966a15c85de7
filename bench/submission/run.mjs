#!/usr/bin/env node
// Submission accept benchmark with DKIM signing (issue #14): how many 5 KB messages per second
// `submission` accepts durably (STARTTLS + AUTH PLAIN once per session, then one transaction
// after another) when it signs nothing, with RSA-2048, with Ed25519, and with both (RFC 8463
// dual signing). One submission process per variant, started afresh, variants interleaved.
// Run from the repository root:  node bench/submission/run.mjs  [--runs 3] [--seconds 5]
//   [--sessions 1,20] [--no-build]
// Prints a table; not a test. See bench/README.md.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, scryptSync } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { argValue, hasFlag } from '../lib/args.mjs';
import { cleanup, onCleanup } from '../lib/cleanup.mjs';
import { databaseUrl, dropDatabase, migrateDatabase, withDatabase } from '../lib/database.mjs';
import { fmt, median } from '../lib/numbers.mjs';
import { root } from '../lib/paths.mjs';
import { cpuSeconds } from '../lib/proc-cpu.mjs';
import { freePort, run } from '../lib/processes.mjs';
import { REDIS_URL, deleteRedisKeys } from '../lib/redis.mjs';
import { startService } from '../lib/services.mjs';

const RUNS = Number(argValue('--runs', '3'));
const SECONDS = Number(argValue('--seconds', '5'));
const SESSIONS = (argValue('--sessions', '1,20') ?? '1,20').split(',').map(Number);
const VARIANTS = ['none', 'rsa', 'ed25519', 'both'];
const USER = 'alice@bench.example';
const PASSWORD = 'bench password';
const SIZE = 5120;

const stamp = `${Date.now().toString(36)}_${process.pid}`;
const DB_NAME = `bench_submission_${stamp}`;
const DATABASE_URL = databaseUrl(DB_NAME);
const REDIS_PREFIX = `bench-submission-${stamp}`;

function scryptPhc(password) {
  const salt = randomBytes(16);
  const hash = scryptSync(password.normalize('NFKC'), salt, 32, { N: 1024, r: 8, p: 1 });
  const b64 = (b) => b.toString('base64').replace(/=+$/, '');
  return `$scrypt$ln=10,r=8,p=1$${b64(salt)}$${b64(hash)}`;
}

function dkimKey(algorithm) {
  const pair =
    algorithm === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ed25519');
  const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
  return {
    privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: (algorithm === 'rsa' ? spki : spki.subarray(spki.length - 32)).toString('base64'),
  };
}

async function setupDatabase() {
  onCleanup(() => dropDatabase(DB_NAME));
  await migrateDatabase(DB_NAME);
  await withDatabase(DB_NAME, async (client) => {
    const { rows } = await client.query(
      "insert into domains (name, type) values ('bench.example', 'local') returning id",
    );
    const domainId = rows[0].id;
    await client.query('insert into accounts (address, password_hash, domain_id) values ($1, $2, $3)', [
      USER,
      scryptPhc(PASSWORD),
      domainId,
    ]);
    for (const algorithm of ['rsa', 'ed25519']) {
      const key = dkimKey(algorithm);
      await client.query(
        'insert into dkim_keys (domain_id, selector, algorithm, private_key, public_key, active) values ($1, $2, $3, $4, $5, false)',
        [domainId, algorithm, algorithm, key.privateKey, key.publicKey],
      );
    }
  });
}

/** Makes exactly the keys of `variant` active (the service is started afterwards: no cache to wait for). */
const activate = (variant) =>
  withDatabase(DB_NAME, (c) =>
    c.query('update dkim_keys set active = (selector = any($1))', [
      variant === 'both' ? ['rsa', 'ed25519'] : [variant],
    ]),
  );

function certificate() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-submission-'));
  onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=submission.bench.example',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  return { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') };
}

const message = (() => {
  const head = `From: Alice <${USER}>\r\nTo: friend@remote.example\r\nSubject: bench\r\n\r\n`;
  const line = `${'x'.repeat(76)}\r\n`;
  return Buffer.from(head + line.repeat(Math.ceil((SIZE - head.length) / line.length)) + '.\r\n');
})();

/** A minimal SMTP client: one reply (multi-line) per `command`. */
function client(socket) {
  let buffered = '';
  let waiting = null;
  const onData = (d) => {
    buffered += d.toString('latin1');
    const m = /(?:^|\r\n)(\d{3}) [^\r\n]*\r\n$/.exec(buffered);
    if (m && waiting) {
      const reply = buffered;
      buffered = '';
      const w = waiting;
      waiting = null;
      w(reply);
    }
  };
  socket.on('data', onData);
  const next = () => new Promise((resolve) => (waiting = resolve));
  return {
    next,
    async command(line, expect) {
      const reply = next();
      socket.write(line);
      const text = await reply;
      if (!text.startsWith(expect) && !text.includes(`\r\n${expect}`))
        throw new Error(`${line.trim()} -> ${text.trim()}`);
      return text;
    },
    detach: () => socket.off('data', onData),
  };
}

async function session(port, until, counts) {
  const plain = net.connect(port, '127.0.0.1');
  const c1 = client(plain);
  await c1.next();
  await c1.command('EHLO bench.client\r\n', '250');
  await c1.command('STARTTLS\r\n', '220');
  c1.detach();
  const socket = tls.connect({ socket: plain, rejectUnauthorized: false });
  await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  const c = client(socket);
  await c.command('EHLO bench.client\r\n', '250');
  await c.command(`AUTH PLAIN ${Buffer.from(`\0${USER}\0${PASSWORD}`).toString('base64')}\r\n`, '235');
  while (Date.now() < until) {
    await c.command(`MAIL FROM:<${USER}>\r\n`, '250');
    await c.command('RCPT TO:<friend@remote.example>\r\n', '250');
    await c.command('DATA\r\n', '354');
    const reply = c.next();
    socket.write(message);
    const text = await reply;
    if (!text.startsWith('250')) throw new Error(`after data: ${text.trim()}`);
    counts.messages++;
  }
  socket.end('QUIT\r\n');
}

async function measure(variant, sessions, tlsFiles) {
  await activate(variant);
  const port = await freePort();
  const svc = await startService('submission', {
    name: `submission-${variant}`,
    smtpPort: port,
    env: {
      DATABASE_URL,
      REDIS_URL,
      REDIS_PREFIX,
      MTA_HOSTNAME: 'submission.bench.example',
      SUBMISSION_LISTEN: `127.0.0.1:${port}`,
      SUBMISSIONS_LISTEN: `127.0.0.1:${await freePort()}`,
      TLS_CERT_FILE: tlsFiles.cert,
      TLS_KEY_FILE: tlsFiles.key,
    },
  });
  try {
    // Warm up (JIT, key parsing, connection pools), then measure.
    await Promise.all(
      Array.from({ length: sessions }, () => session(port, Date.now() + 1000, { messages: 0 })),
    );
    const counts = { messages: 0 };
    const cpu0 = cpuSeconds(svc.pid);
    const t0 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: sessions }, () => session(port, Date.now() + SECONDS * 1000, counts)),
    );
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = cpuSeconds(svc.pid) - cpu0;
    return { rate: counts.messages / seconds, cpuMs: (cpu * 1000) / counts.messages };
  } finally {
    await svc.stop();
  }
}

async function main() {
  if (!hasFlag('--no-build')) {
    const built = await run('npx', ['nx', 'run', 'submission:build'], {
      cwd: root,
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
      timeoutMs: 600_000,
    });
    if (built.code !== 0) throw new Error(`build failed: ${built.stdout}${built.stderr}`);
  }
  onCleanup(() => deleteRedisKeys(REDIS_PREFIX));
  await setupDatabase();
  const tlsFiles = certificate();
  console.log(
    `submission accept rate, ${SIZE} B messages, STARTTLS + AUTH once per session; ${RUNS} run(s) of ${SECONDS} s, median`,
  );
  console.log('| sessions | signing | msg/s | vs none | CPU ms/msg (submission process) |');
  console.log('| ---: | --- | ---: | ---: | ---: |');
  for (const sessions of SESSIONS) {
    const results = Object.fromEntries(VARIANTS.map((v) => [v, []]));
    for (let r = 0; r < RUNS; r++)
      for (const v of VARIANTS) results[v].push(await measure(v, sessions, tlsFiles));
    const none = median(results.none.map((x) => x.rate));
    for (const v of VARIANTS) {
      const rate = median(results[v].map((x) => x.rate));
      const cpu = median(results[v].map((x) => x.cpuMs));
      console.log(`| ${sessions} | ${v} | ${fmt(rate)} | ${fmt((rate / none) * 100)} % | ${fmt(cpu, 2)} |`);
    }
  }
}

try {
  await main();
} finally {
  await cleanup();
}
