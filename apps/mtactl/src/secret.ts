/**
 * Passwords and tokens are never arguments (they would show in `ps` and the shell history):
 * on a terminal they are asked for without echo, otherwise the first line of stdin is taken
 * (`echo "$PASSWORD" | mtactl accounts add alice@example.org`).
 */
import type { Readable, Writable } from 'node:stream';
import { CliError, EXIT, usageError } from './errors';

type Input = Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };

export async function readSecret(
  stdin: Input,
  stderr: Writable,
  prompt: string,
  confirm = false,
): Promise<string> {
  if (!stdin.isTTY || !stdin.setRawMode) {
    const line = await firstLine(stdin);
    if (!line) throw usageError(`${prompt.replace(/: $/, '')}: nothing on stdin`);
    return line;
  }
  const first = await ask(stdin, stderr, prompt);
  if (confirm && (await ask(stdin, stderr, 'Again: ')) !== first)
    throw usageError('the two entries differ; nothing was changed');
  if (!first) throw usageError('nothing entered; nothing was changed');
  return first;
}

function firstLine(stdin: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const done = () => {
      stdin.off('data', onData).off('end', done).off('error', reject);
      stdin.destroy();
      resolve(buffered.split('\n')[0]?.replace(/\r$/, '') ?? '');
    };
    const onData = (chunk: Buffer | string) => {
      buffered += chunk.toString();
      if (buffered.includes('\n')) done();
    };
    stdin.on('data', onData).on('end', done).on('error', reject);
  });
}

/** One line from the terminal in raw mode, echoing nothing; Ctrl-C gives up. */
function ask(stdin: Input, stderr: Writable, prompt: string): Promise<string> {
  stderr.write(prompt);
  stdin.setRawMode?.(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (error?: CliError) => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of chunk.toString()) {
        if (char === '\r' || char === '\n') return finish();
        if (char === '\u0003') return finish(new CliError('interrupted', EXIT.interrupted));
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    stdin.on('data', onData);
  });
}
