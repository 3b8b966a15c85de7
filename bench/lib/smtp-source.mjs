// Load from Postfix's smtp-source(1).
import { run } from './processes.mjs';

export const SMTP_SOURCE = '/usr/sbin/smtp-source';

/**
 * `smtp-source -s <sessions> -m <messages> -l <size> -d -f <from> -t <to> 127.0.0.1:<port>`
 * (-d: each session keeps its connection for message after message). `file`: send that
 * pre-formatted message instead of a generated one of `size` bytes (-F, e.g. a DKIM-signed
 * message); `helo`: the EHLO name (-M).
 * Resolves with the wall time in seconds; throws if smtp-source fails or complains (any
 * rejected message does).
 */
export async function smtpSource(
  port,
  sessions,
  messages,
  { size, from, to, file, helo, timeoutMs = 180_000 },
) {
  const args = ['-s', String(sessions), '-m', String(messages), '-d'];
  args.push(...(file ? ['-F', file] : ['-l', String(size)]));
  if (helo) args.push('-M', helo);
  args.push('-f', from, '-t', to, `127.0.0.1:${port}`);
  const t0 = process.hrtime.bigint();
  const r = await run(SMTP_SOURCE, args, { timeoutMs });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.code !== 0 || r.stderr.trim())
    throw new Error(`smtp-source ${args.join(' ')} → ${r.code}: ${r.stderr.slice(0, 2000)}`);
  return seconds;
}
