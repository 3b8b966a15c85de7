#!/usr/bin/env node
// The CPU one inbound message's authentication costs, step by step, in one process with DNS
// answered from memory (no network, no Redis, no PostgreSQL): mailauth's streaming DKIM
// verifier (what mx runs), its key record handling alone (import and export of the key, done
// for every signature it verifies), the RSA verification itself, SPF and DMARC; against
// dkimpy (Debian's python3-dkim under /usr/bin/python3, an independent verifier) verifying the
// same message.
// Run from the repository root:  node bench/policy/verify-cost.mjs [--messages 3000] [--runs 3]
// See bench/README.md. Prints a table; not a test.
import { spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { argValue } from '../lib/args.mjs';
import { fmt, median } from '../lib/numbers.mjs';
import { root } from '../lib/paths.mjs';

const require = createRequire(path.join(root, 'package.json'));
const { dkimSign, dkimVerify, spf } = require('mailauth');
const { evaluateDmarc } = require('mailauth/lib/dmarc');

const MESSAGES = Number(argValue('--messages', '3000'));
const RUNS = Number(argValue('--runs', '3'));

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const spki = publicKey.export({ type: 'spki', format: 'der' });
const keyRecord = `v=DKIM1; k=rsa; p=${spki.toString('base64')}`;
const records = new Map([
  ['TXT bench._domainkey.remote.example', [[keyRecord]]],
  ['TXT _dmarc.remote.example', [['v=DMARC1; p=reject']]],
  ['TXT remote.example', [['v=spf1 ip4:127.0.0.1 -all']]],
]);
/** mailauth's resolver contract, answered from memory: NXDOMAIN for anything else. */
const resolver = async (name, type) => {
  const answer = records.get(`${type} ${name}`);
  if (answer) return answer;
  throw Object.assign(new Error(`${name} ${type}: no record`), { code: 'ENOTFOUND' });
};

// The 5,120-byte shape of bench/intake: a few headers and 68 lines of 70 characters.
const body = `${'x'.repeat(70)}\r\n`.repeat(68);
const unsigned =
  'From: sender@remote.example\r\nTo: rcpt@bench.example\r\nSubject: bench\r\n' +
  'Date: Mon, 7 Dec 2026 10:00:00 +0000\r\nMessage-ID: <1@remote.example>\r\n\r\n' +
  body;
const signed = await dkimSign(unsigned, {
  signatureData: [
    { signingDomain: 'remote.example', selector: 'bench', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) },
  ],
});
const message = Buffer.from(signed.signatures + unsigned);

/** CPU milliseconds per call of `step`, after a warm-up. */
async function cpuPerCall(step, n = MESSAGES) {
  for (let i = 0; i < Math.min(200, n); i++) await step();
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) await step();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / n;
}

const streamVerify = async () => {
  const input = new PassThrough();
  const result = dkimVerify(input, { resolver, sender: 'sender@remote.example' });
  input.end(message);
  return result;
};
const first = await streamVerify();
if (first.results[0]?.status.result !== 'pass') throw new Error('the benchmark message does not verify');
const signature = sign('sha256', message, privateKey);

const steps = {
  'mailauth dkimVerify, streamed (what mx runs)': streamVerify,
  'key record to KeyObject and back (mailauth, per signature)': async () =>
    createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'der' }),
  'RSA-2048 verify alone (node:crypto)': async () => verify('sha256', message, publicKey, signature),
  'mailauth SPF (MAIL FROM, DNS from memory)': () =>
    spf({ ip: '127.0.0.1', helo: 'client.remote.example', sender: 'sender@remote.example', mta: 'mx', resolver }),
  'mailauth DMARC evaluation': () =>
    evaluateDmarc({
      headerFrom: first.headerFrom,
      fromFields: first.fromFields,
      spfDomains: ['remote.example'],
      dkimDomains: [{ id: first.results[0].id, domain: 'remote.example', aligned: 'remote.example' }],
      resolver,
    }),
};

/** dkimpy verifying the same message MESSAGES times, DNS from memory; CPU ms per message. */
function dkimpy(dir) {
  const file = path.join(dir, 'message.eml');
  writeFileSync(file, message);
  const script = `
import sys, time, dkim
msg = open(sys.argv[1], 'rb').read()
record = sys.argv[2].encode()
dnsfunc = lambda name, timeout=5: record if name.startswith(b'bench._domainkey.') else b''
n = int(sys.argv[3])
assert dkim.verify(msg, dnsfunc=dnsfunc)
for _ in range(min(200, n)): dkim.verify(msg, dnsfunc=dnsfunc)
t = time.process_time()
for _ in range(n): dkim.verify(msg, dnsfunc=dnsfunc)
print((time.process_time() - t) * 1000 / n)
`;
  const out = spawnSync('/usr/bin/python3', ['-c', script, file, keyRecord, String(MESSAGES)], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`dkimpy: ${out.stderr.trim()}`);
  return Number(out.stdout.trim());
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'verify-cost-'));
const rows = new Map(Object.keys(steps).map((name) => [name, []]));
rows.set('dkimpy dkim.verify (python3-dkim, the same message)', []);
try {
  for (let run = 0; run < RUNS; run++) {
    for (const [name, step] of Object.entries(steps)) rows.get(name).push(await cpuPerCall(step));
    rows.get('dkimpy dkim.verify (python3-dkim, the same message)').push(dkimpy(dir));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`${message.length}-byte message, RSA-2048, relaxed/relaxed; ${MESSAGES} calls per run, ${RUNS} runs, medians\n`);
console.log('| step | CPU ms per message | runs |');
console.log('| --- | ---: | --- |');
for (const [name, values] of rows) console.log(`| ${name} | ${fmt(median(values), 3)} | ${values.map((v) => fmt(v, 3)).join(', ')} |`);
