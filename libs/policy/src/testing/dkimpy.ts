/**
 * Debian's python3-dkim (dkimpy) as an independent verifier of DKIM signatures and ARC chains,
 * asking the same loopback DNS server as our checks. Under CI=true a missing peer is a failure.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(__dirname, 'dkimpy-verify.py');

export const haveDkimpy = (): boolean => existsSync('/usr/lib/python3/dist-packages/dkim/__init__.py');

function run(mode: 'dkim' | 'arc', message: Buffer, server: { host: string; port: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, [SCRIPT, mode, server.host, String(server.port)], { timeout: 20_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`dkimpy-verify ${mode}: ${err.message}\n${stderr}`)) : resolve(stdout),
    );
    child.stdin?.end(message);
  });
}

/** The result of every DKIM-Signature, in header order (dkimpy verifies one index at a time). */
export async function dkimpyVerifyDkim(message: Buffer, server: { host: string; port: number }): Promise<string[]> {
  const out = await run('dkim', message, server);
  return out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ')[2]);
}

/** The ARC chain validation status dkimpy computes (`pass`, `fail`, `none`). */
export async function dkimpyVerifyArc(message: Buffer, server: { host: string; port: number }): Promise<string> {
  const out = await run('arc', message, server);
  return out.trim().split(' ')[1] ?? '';
}
