/**
 * Postfix's smtp-sink(1) as a test peer (@mta/testing's startSmtpSink): a real SMTP server
 * nobody here wrote, with fault injection by command (`-r` 4xx, `-f` 5xx, `-q` drop, `-Q`
 * 421+drop, `-w`/`-W` delays) and per-transaction dump files (`-d`).
 */
import * as testing from '@mta/testing';

export const { haveSmtpSink } = testing;
export type SinkDump = testing.SinkDump;
export type Sink = testing.SmtpSink;

/**
 * Start smtp-sink on loopback, on a free port, with the given fault options.
 * @param host `127.0.0.1` or `::1`
 */
export const startSink = (options: readonly string[] = [], host = '127.0.0.1'): Promise<Sink> =>
  testing.startSmtpSink({ host, faults: options });
