/**
 * nodemailer's `smtp-server` as an independent in-process peer: STARTTLS with a
 * self-signed certificate, AUTH PLAIN/LOGIN, per-recipient verdicts, and extensions
 * that can be hidden one by one (8BITMIME, SMTPUTF8, PIPELINING...).
 */
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface Received {
  readonly from: string;
  readonly to: string[];
  readonly data: Buffer;
}

export interface NodemailerPeer {
  readonly port: number;
  readonly received: Received[];
  /** Usernames that authenticated, with the mechanism. */
  readonly logins: { user: string; method: string }[];
  stop(): Promise<void>;
}

export { makeCert, type TestCert } from './harness';

/** Error with an SMTP code, as smtp-server expects from hooks. */
export function smtpReject(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

export const PASSWORD = 's3cret-Pa55word!';

export async function startNodemailerPeer(
  options: Partial<SMTPServerOptions> = {},
  host = '127.0.0.1',
): Promise<NodemailerPeer> {
  const received: Received[] = [];
  const logins: { user: string; method: string }[] = [];
  const server = new SMTPServer({
    name: 'mx.test',
    authOptional: true,
    closeTimeout: 200,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'user' && auth.password === PASSWORD) {
        logins.push({ user: auth.username, method: auth.method });
        cb(null, { user: auth.username });
      } else {
        cb(smtpReject(535, '5.7.8 Authentication credentials invalid'));
      }
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const env = session.envelope;
        received.push({
          from: env.mailFrom ? env.mailFrom.address : '',
          to: env.rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks),
        });
        cb(null);
      });
    },
    ...options,
  });
  server.on('error', () => {
    /* client-side aborts in tests */
  });
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  const addr = server.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    received,
    logins,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
