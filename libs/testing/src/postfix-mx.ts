/**
 * Postfix's smtpd as the receiving MX of outbound delivery tests: a private instance (its own
 * config, queue and log under a temp dir; never the system's) on loopback, with the
 * certificate chain the test gives it, that takes mail for any domain from loopback and puts
 * it on hold, so that `messages()` shows what arrived (and `log()` over what TLS). Root only
 * (Postfix drops to `postfix`); `havePostfixMx()` says whether it can run.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnPeer, waitForPort } from './peer-process';

export const havePostfixMx = (): boolean => existsSync('/usr/sbin/postfix') && process.getuid?.() === 0;

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
  const root = mkdtempSync(path.join(tmpdir(), 'postfix-mx-'));
  chmodSync(root, 0o755);
  const etc = path.join(root, 'etc');
  const data = path.join(root, 'data');
  for (const d of [etc, data, path.join(root, 'spool')]) mkdirSync(d, { recursive: true });
  chownSync(data, Number(execFileSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).trim()), -1);
  const tls = options.certChain && options.key && options.tlsLevel !== 'none';
  if (tls) {
    writeFileSync(path.join(etc, 'key.pem'), options.key ?? '', { mode: 0o600 });
    writeFileSync(path.join(etc, 'chain.pem'), options.certChain ?? '');
  }
  const hosts = options.hosts ?? ['127.0.0.1'];
  writeFileSync(path.join(etc, 'main.cf'), mainCf(root, etc, tls ? 'may' : 'none'));
  writeFileSync(
    path.join(etc, 'master.cf'),
    hosts.map((h) => `${h}:${options.port} inet n - n - - smtpd`).join('\n') + '\n' + SERVICES,
  );
  writeFileSync(path.join(etc, 'header_checks'), '/^[A-Za-z-]+:/ HOLD\n');
  execFileSync('/usr/sbin/postfix', ['-c', etc, 'check'], { stdio: 'ignore' });
  const proc = spawnPeer('/usr/sbin/postfix', ['-c', etc, 'start-fg']);
  const logFile = path.join(root, 'maillog');
  const read = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '');
  try {
    for (const h of hosts) await waitForPort(options.port, h, 20_000);
  } catch (e) {
    await proc.stop();
    throw new Error(`postfix did not start: ${proc.output()} ${read(logFile)}`, { cause: e });
  }
  return {
    port: options.port,
    messages() {
      const out = execFileSync('/usr/sbin/postqueue', ['-c', etc, '-j'], { encoding: 'utf8' });
      return out
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
    content: (id) => execFileSync('/usr/sbin/postcat', ['-c', etc, '-bh', '-q', id], { encoding: 'utf8' }),
    log: () => read(logFile),
    async stop() {
      try {
        execFileSync('/usr/sbin/postfix', ['-c', etc, 'stop'], { stdio: 'ignore' });
      } catch {
        /* not running */
      }
      await proc.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function mainCf(root: string, etc: string, level: 'may' | 'none'): string {
  const tls =
    level === 'may'
      ? `smtpd_tls_security_level = may\nsmtpd_tls_chain_files = ${etc}/key.pem, ${etc}/chain.pem\nsmtpd_tls_received_header = yes\nsmtpd_tls_loglevel = 1\n`
      : 'smtpd_tls_security_level = none\n';
  return `compatibility_level = 3.6
queue_directory = ${root}/spool
data_directory = ${root}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.postfix.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
default_transport = discard:
header_checks = regexp:${etc}/header_checks
${tls}maillog_file = ${root}/maillog
maillog_file_prefixes = ${root}
smtputf8_enable = yes
alias_maps =
alias_database =
biff = no
smtpd_banner = $myhostname ESMTP
shlib_directory = /usr/lib/postfix
daemon_directory = /usr/lib/postfix/sbin
command_directory = /usr/sbin
meta_directory = /etc/postfix
`;
}

const SERVICES = `pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`;
