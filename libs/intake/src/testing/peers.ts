/**
 * Real SMTP clients nobody here wrote, for the intake tests: swaks (Debian) and Python's smtplib.
 * Not exported from the lib.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Transcript {
  status: number | null;
  /** Every reply line from the server (`<-`/`<~` lines of swaks), without the marker. */
  replies: string[];
  output: string;
}

/** Runs a program without blocking the event loop: the server under test runs in this process. */
function run(
  file: string,
  args: string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ status, stdout, stderr });
      },
    );
  });
}

/** Runs swaks against 127.0.0.1:`port`; `data` (CRLF message) is given to it as a file. */
export async function swaks(port: number, args: string[], data?: string | Buffer): Promise<Transcript> {
  const extra: string[] = [];
  if (data !== undefined) {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'swaks-')), 'message.eml');
    writeFileSync(file, data);
    extra.push('--data', `@${file}`);
  }
  const done = await run('swaks', [
    '--server',
    '127.0.0.1',
    '--port',
    String(port),
    '--helo',
    'client.example',
    ...args,
    ...extra,
  ]);
  const output = `${done.stdout}${done.stderr}`;
  const replies = output
    .split('\n')
    .filter((l) => /^ *<[-~*]{1,2} /.test(l))
    .map((l) => l.replace(/^ *<[-~*]{1,2} +/, ''));
  return { status: done.status, replies, output };
}

/** The last reply line with this code prefix, e.g. `250 ` → `250 2.0.0 OK: queued as X`. */
export function lastReply(t: Pick<Transcript, 'replies'>, prefix: string): string | undefined {
  return t.replies.filter((r) => r.startsWith(prefix)).pop();
}

/**
 * Runs a Python program with smtplib against the server; `script` sees `port` and prints what
 * the test checks. Returns stdout (stderr on failure, for the assertion message).
 */
export async function python(port: number, script: string): Promise<string> {
  const program = `import smtplib, ssl, sys\nport = ${port}\n${script}\n`;
  const done = await run('python3', ['-c', program]);
  if (done.status !== 0) throw new Error(`python failed (${done.status}): ${done.stderr}`);
  return done.stdout;
}
