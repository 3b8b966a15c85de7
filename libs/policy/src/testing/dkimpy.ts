/**
 * Debian's python3-dkim (dkimpy) as an independent verifier of DKIM signatures and ARC chains,
 * asking the same loopback DNS server as our checks. One Python process per server, fed one
 * message at a time (starting Python and dkimpy costs more than a verification).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(__dirname, 'dkimpy-verify.py');

export const haveDkimpy = (): boolean => existsSync('/usr/lib/python3/dist-packages/dkim/__init__.py');

export interface Dkimpy {
  /** the result of every DKIM-Signature, in header order: `pass` or `fail` */
  verifyDkim(message: Buffer): Promise<string[]>;
  /** the ARC chain validation status: `pass`, `fail`, `none`, or `None` for a chain ended by cv=fail */
  verifyArc(message: Buffer): Promise<string>;
  close(): Promise<void>;
}

export function startDkimpy(server: { host: string; port: number }): Dkimpy {
  const child = spawn(PYTHON, [SCRIPT, server.host, String(server.port)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  let buffered = '';
  const waiting: Array<{ resolve: (line: string) => void; reject: (err: Error) => void }> = [];
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      waiting.shift()?.resolve(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      for (const w of waiting.splice(0)) w.reject(new Error(`dkimpy-verify exited: ${stderr}`));
      resolve();
    }),
  );
  const ask = (mode: 'dkim' | 'arc', message: Buffer) =>
    new Promise<string>((resolve, reject) => {
      waiting.push({ resolve, reject });
      child.stdin.write(`${mode} ${message.length}\n`);
      child.stdin.write(message);
    });
  return {
    verifyDkim: async (message) => (await ask('dkim', message)).split(' ').filter(Boolean),
    verifyArc: (message) => ask('arc', message),
    close: async () => {
      child.stdin.end();
      await exited;
    },
  };
}
