/**
 * A private Postfix instance (its own config, queue and log directories under a temp
 * dir; never the system instance) whose smtpd listens on loopback only, for the
 * features smtp-sink lacks: STARTTLS, CHUNKING/BDAT, SIZE, SMTPUTF8, DSN, and
 * per-recipient verdicts from a regexp access map. Messages are put on hold (header_checks
 * HOLD) so that `postcat` can show what arrived. Requires root (Postfix drops to `postfix`).
 */
import { havePostfixBinary, startPostfixInstance } from '@mta/testing';
import { freePort, makeCert } from './harness';

export const havePostfix = havePostfixBinary;

export const POSTFIX_SIZE_LIMIT = 200_000;

export interface Postfix {
  readonly port: number;
  /** A second smtpd that does not offer CHUNKING, so that the client sends the body with DATA. */
  readonly portWithoutChunking: number;
  /** PEM of the self-signed server certificate (CN and SAN `mx.test`, SAN IP 127.0.0.1). */
  readonly certPem: string;
  /** `postcat -bh`: headers and body of a held message, by queue id (from the 250 reply). */
  content(queueId: string): string;
  /** `postcat -e`: envelope records of a held message. */
  envelope(queueId: string): string;
  log(): string;
  stop(): Promise<void>;
}

const RCPT_ACCESS = [
  '/^defer@/ 450 4.2.0 Try again later',
  '/^reject@/ 550 5.1.1 No such user here',
  '',
].join('\n');

export async function startPostfix(): Promise<Postfix> {
  const { key, cert } = makeCert('mx.test');
  const port = await freePort();
  let portWithoutChunking = await freePort();
  while (portWithoutChunking === port) portWithoutChunking = await freePort();
  const instance = await startPostfixInstance({
    name: 'postfix-',
    mainCf,
    listeners: [
      `127.0.0.1:${port} inet n - n - - smtpd`,
      `[::1]:${port} inet n - n - - smtpd`,
      `127.0.0.1:${portWithoutChunking} inet n - n - - smtpd -o smtpd_discard_ehlo_keywords=silent-discard,chunking`,
    ],
    files: {
      'key.pem': { content: key, mode: 0o600 },
      'cert.pem': { content: cert },
      // Messages are held so that postcat shows what arrived.
      header_checks: { content: '/^Subject:/ HOLD\n' },
      rcpt_access: { content: RCPT_ACCESS },
    },
    ports: [
      { host: '127.0.0.1', port },
      { host: '127.0.0.1', port: portWithoutChunking },
    ],
  });
  return {
    port,
    portWithoutChunking,
    certPem: cert,
    content: (id) => instance.run('postcat', ['-bh', '-q', id]),
    envelope: (id) => instance.run('postcat', ['-e', '-q', id]),
    log: () => instance.log(),
    stop: () => instance.stop(),
  };
}

/** STARTTLS, SIZE, SMTPUTF8, DSN and CHUNKING on; per-recipient verdicts from rcpt_access; discard. */
function mainCf(etc: string): string {
  return `myhostname = mx.test
mydomain = test
myorigin = mx.test
mydestination = mx.test
inet_protocols = all
mynetworks = 127.0.0.0/8 [::1]/128
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access regexp:${etc}/rcpt_access, permit_mynetworks, reject
local_transport = discard:
default_transport = discard:
local_recipient_maps =
header_checks = regexp:${etc}/header_checks
message_size_limit = ${POSTFIX_SIZE_LIMIT}
smtpd_tls_security_level = may
smtpd_tls_cert_file = ${etc}/cert.pem
smtpd_tls_key_file = ${etc}/key.pem
smtpd_tls_received_header = yes
`;
}
