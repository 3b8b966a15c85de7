/**
 * Postfix's smtp-sink(1) as a test peer: a real SMTP server nobody here wrote, with fault
 * injection by command (`-r` 4xx, `-f` 5xx, `-q` drop, `-Q` 421+drop, `-w`/`-W` delays)
 * and per-transaction dump files (`-d`) to compare the bytes received with those sent.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';
import { hasBinary, spawnPeer, waitForPort } from './peer-process';

export const SMTP_SINK = '/usr/sbin/smtp-sink';
export const haveSmtpSink = (): boolean => hasBinary(SMTP_SINK);

export interface SinkDump {
  /** X-Mail-Args / X-Rcpt-Args etc. (smtp-sink's own trace headers). */
  readonly meta: Record<string, string[]>;
  /** The message as received, with LF line endings, dot-unstuffed by the sink. */
  readonly content: string;
}

export interface SmtpSink {
  readonly host: string;
  readonly port: number;
  /** Parsed dump files (in no particular order: find yours by its content). */
  dumps(): SinkDump[];
  stop(): Promise<void>;
}

export interface SmtpSinkOptions {
  /** Where to listen: `127.0.0.1` (the default), another loopback address, or `::1`. */
  host?: string;
  /** The port; by default a free one on `host`. */
  port?: number;
  /** smtp-sink fault flags, e.g. `['-r', 'RCPT']`. */
  faults?: readonly string[];
}

/** smtp-sink on `host:port` (`-u nobody`, dumps in a temp dir), with fault flags. */
export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort(host));
  const dir = mkdtempSync(path.join(tmpdir(), 'smtp-sink-'));
  chmodSync(dir, 0o777); // the sink drops to `nobody` before writing dumps
  const listen = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const proc = spawnPeer(SMTP_SINK, [
    '-u',
    'nobody',
    '-d',
    path.join(dir, 'msg.'),
    ...(options.faults ?? []),
    listen,
    '16',
  ]);
  try {
    await waitForPort(port, host);
  } catch (e) {
    await proc.stop();
    throw new Error(`smtp-sink did not start: ${proc.output()}`, { cause: e });
  }
  return {
    host,
    port,
    dumps: () =>
      readdirSync(dir).map((name) => parseSmtpSinkDump(readFileSync(path.join(dir, name), 'latin1'))),
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Dump format (smtp-sink(1) "DUMP FILE FORMAT"): X-* records, a three-line Received
 * header, the message, then one empty line.
 */
export function parseSmtpSinkDump(text: string): SinkDump {
  const lines = text.split('\n');
  const meta: Record<string, string[]> = {};
  let i = 0;
  for (; i < lines.length && lines[i].startsWith('X-'); i++) {
    const [key, ...rest] = lines[i].split(': ');
    (meta[key] ??= []).push(rest.join(': '));
  }
  if (lines[i]?.startsWith('Received:')) i += 3;
  const body = lines.slice(i).join('\n');
  return { meta, content: body.endsWith('\n\n') ? body.slice(0, -1) : body };
}
