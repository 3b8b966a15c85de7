/** swaks (Debian's package), the SMTP client the end-to-end tests send with. */
import { execFile, spawnSync } from 'node:child_process';

/** swaks is on the PATH and runs. */
export const haveSwaks = (): boolean => spawnSync('swaks', ['--version']).status === 0;

/** Runs swaks with `args`; resolves with its whole transcript (stdout, then stderr), whatever its exit. */
export function runSwaks(args: readonly string[]): Promise<string> {
  return new Promise((resolve) =>
    execFile('swaks', [...args], { encoding: 'utf8' }, (_error, stdout, stderr) =>
      resolve(`${stdout}${stderr}`),
    ),
  );
}
