/**
 * Messages and client options shared by the interoperability specs.
 */
import { SmtpClient, type ConnectOptions } from '../client';
import type { TraceEvent } from '../connection';
import type { Timeouts } from '../timeouts';

/** Short timeouts so that failure tests finish quickly. */
export const FAST: Partial<Timeouts> = {
  connect: 2_000,
  greeting: 2_000,
  helo: 2_000,
  starttls: 2_000,
  auth: 2_000,
  mail: 2_000,
  rcpt: 2_000,
  dataInit: 2_000,
  dataBlock: 2_000,
  endOfData: 3_000,
  rset: 1_000,
  quit: 1_000,
};

/** A CRLF message with a unique subject (used to find it in a peer's dump). */
export function message(
  subject: string,
  body = 'Hello.\r\n.leading dot\r\n..two dots\r\n.\r\nend\r\n',
): Buffer {
  return Buffer.from(
    `From: <sender@example.org>\r\nTo: <rcpt@mx.test>\r\nDate: Thu, 26 Nov 2026 12:00:00 +0000\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@example.org>\r\n\r\n${body}`,
    'utf8',
  );
}

/** What a peer that stores LF lines shows for a CRLF message. */
export const asLf = (b: Buffer): string => b.toString('latin1').replace(/\r\n/g, '\n');

export interface Traced {
  readonly events: TraceEvent[];
  readonly commands: () => string[];
}

export function tracer(): Traced & { fn: (e: TraceEvent) => void } {
  const events: TraceEvent[] = [];
  return {
    events,
    fn: (e) => events.push(e),
    commands: () => events.flatMap((e) => (e.direction === 'out' ? [e.line] : [])),
  };
}

/**
 * The trace as command verbs and reply codes, from the first MAIL on:
 * `['MAIL', 'RCPT', 'DATA', 250, 250, 354, ...]` (message content is not traced).
 */
export function wireFromMail(t: Traced): (string | number)[] {
  const all = t.events.flatMap((e): (string | number)[] =>
    e.direction === 'out' ? [e.line.split(/[ :]/)[0]] : e.direction === 'in' ? [e.reply.code] : [],
  );
  return all.slice(all.indexOf('MAIL'));
}

/** Connect and assert success; returns the client. */
export async function mustConnect(opts: Partial<ConnectOptions>): Promise<SmtpClient> {
  const r = await SmtpClient.connect({
    host: '127.0.0.1',
    heloName: 'client.example.org',
    timeouts: FAST,
    tls: 'none',
    ...opts,
  });
  if (!r.ok) throw new Error(`connect failed: ${r.error.message}`);
  return r.client;
}
