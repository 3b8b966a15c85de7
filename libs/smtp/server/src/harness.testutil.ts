/** Start a server on a loopback port for a test, collecting what the handler saw. */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Envelope, SessionInfo, SmtpHandler } from './handler';
import type { ListenerOptions, SmtpServerOptions } from './options';
import { SmtpServer } from './server';

export interface ReceivedMessage {
  envelope: Envelope;
  body: Buffer;
  sha256: string;
  session: { user: string | null; protocol: string; tls: SessionInfo['tls']; remoteAddress: string };
}

export interface Harness {
  server: SmtpServer;
  port: number;
  ports: number[];
  messages: ReceivedMessage[];
  /** Bodies whose stream failed (error message). */
  failures: string[];
  closed: SessionInfo[];
  errors: unknown[];
  close(): Promise<void>;
}

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

export async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** A server whose default handler stores every message; `handler` overrides single hooks. */
export async function startHarness(
  options: SmtpServerOptions = {},
  listeners: Partial<ListenerOptions>[] = [{}],
  handler: SmtpHandler = {},
): Promise<Harness> {
  const messages: ReceivedMessage[] = [];
  const failures: string[] = [];
  const closed: SessionInfo[] = [];
  const errors: unknown[] = [];
  let n = 0;
  const full: SmtpHandler = {
    async onData(session, envelope, body) {
      try {
        const data = await readAll(body);
        messages.push({
          envelope,
          body: data,
          sha256: sha256(data),
          session: {
            user: session.user,
            protocol: session.protocol,
            tls: session.tls,
            remoteAddress: session.remoteAddress,
          },
        });
        return `Q${++n}`;
      } catch (err) {
        failures.push((err as Error).message);
        throw err;
      }
    },
    onClose: (s) => closed.push(s),
    ...handler,
  };
  const server = new SmtpServer({
    hostname: 'mx.test',
    onError: (e) => errors.push(e),
    ...options,
    handler: options.handler ?? full,
  });
  const ports: number[] = [];
  for (const l of listeners) {
    const a = await server.listen({ host: '127.0.0.1', port: 0, ...l });
    ports.push(a.port);
  }
  return {
    server,
    port: ports[0],
    ports,
    messages,
    failures,
    closed,
    errors,
    close: () => server.close(1000),
  };
}
