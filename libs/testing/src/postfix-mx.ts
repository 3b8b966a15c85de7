/**
 * Postfix's smtpd as the receiving MX of outbound delivery tests: a private instance (its own
 * config, queue and log under a temp dir; never the system's) on loopback, with the
 * certificate chain the test gives it, that takes mail for any domain from loopback and puts
 * it on hold, so that `messages()` shows what arrived (and `log()` over what TLS). Root only
 * (Postfix drops to `postfix`); `havePostfixMx()` says whether it can run.
 */
import { havePostfixBinary, startPostfixInstance } from './postfix-instance';

export const havePostfixMx = havePostfixBinary;

export interface PostfixMxOptions {
  /** Addresses to listen on (default 127.0.0.1), all on `port`. */
  readonly hosts?: readonly string[];
  readonly port: number;
  /** PEM chain (leaf first) and key; without them STARTTLS is not offered. */
  readonly certChain?: string;
  readonly key?: string;
  /** `smtpd_tls_security_level` (default `may`). */
  readonly tlsLevel?: 'may' | 'none';
}

export interface HeldMessage {
  readonly queueId: string;
  readonly sender: string;
  readonly recipients: readonly string[];
}

export interface PostfixMx {
  readonly port: number;
  /** Messages that arrived (held in its queue). */
  messages(): HeldMessage[];
  /** Headers and body of one (`postcat -bh`). */
  content(queueId: string): string;
  log(): string;
  stop(): Promise<void>;
}

export async function startPostfixMx(options: PostfixMxOptions): Promise<PostfixMx> {
  const tls = Boolean(options.certChain && options.key && options.tlsLevel !== 'none');
  const hosts = options.hosts ?? ['127.0.0.1'];
  const instance = await startPostfixInstance({
    name: 'postfix-mx-',
    mainCf: (etc) => mainCf(etc, tls),
    listeners: hosts.map((h) => `${h}:${options.port} inet n - n - - smtpd`),
    files: {
      // Every message is held, so that messages() shows what arrived.
      header_checks: { content: '/^[A-Za-z-]+:/ HOLD\n' },
      ...(tls
        ? {
            'key.pem': { content: options.key ?? '', mode: 0o600 },
            'chain.pem': { content: options.certChain ?? '' },
          }
        : {}),
    },
    ports: hosts.map((host) => ({ host, port: options.port })),
  });
  return {
    port: options.port,
    messages() {
      return instance
        .run('postqueue', ['-j'])
        .split('\n')
        .filter(Boolean)
        .map(
          (line) =>
            JSON.parse(line) as { queue_id: string; sender: string; recipients: { address: string }[] },
        )
        .map((m) => ({
          queueId: m.queue_id,
          sender: m.sender,
          recipients: m.recipients.map((r) => r.address),
        }));
    },
    content: (id) => instance.run('postcat', ['-bh', '-q', id]),
    log: () => instance.log(),
    stop: () => instance.stop(),
  };
}

/** Takes mail for any domain from loopback and discards it after the hold; STARTTLS if given a chain. */
function mainCf(etc: string, tls: boolean): string {
  const tlsLines = tls
    ? `smtpd_tls_security_level = may\nsmtpd_tls_chain_files = ${etc}/key.pem, ${etc}/chain.pem\nsmtpd_tls_received_header = yes\nsmtpd_tls_loglevel = 1\n`
    : 'smtpd_tls_security_level = none\n';
  return `myhostname = mx.postfix.test
mydestination =
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
default_transport = discard:
header_checks = regexp:${etc}/header_checks
${tlsLines}`;
}
