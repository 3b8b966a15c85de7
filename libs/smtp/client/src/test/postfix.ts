/**
 * A private Postfix instance (its own config, queue and log directories under a temp
 * dir; never the system instance) whose smtpd listens on loopback only, for the
 * features smtp-sink lacks: STARTTLS, CHUNKING/BDAT, SIZE, SMTPUTF8, DSN, and
 * per-recipient verdicts from a regexp access map. Messages are put on hold (header_checks
 * HOLD) so that `postcat` can show what arrived. Requires root (Postfix drops to `postfix`).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, hasBinary, isRoot, makeCert, spawnPeer, waitForPort, type Spawned } from './harness';

export const havePostfix = (): boolean => hasBinary('/usr/sbin/postfix') && isRoot();

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
  const root = mkdtempSync(path.join(tmpdir(), 'postfix-'));
  chmodSync(root, 0o755); // Postfix daemons run as `postfix` and must reach the queue
  const etc = path.join(root, 'etc');
  const data = path.join(root, 'data');
  for (const d of [etc, data, path.join(root, 'spool')]) mkdirSync(d, { recursive: true });
  chownSync(data, postfixUid(), -1);
  const { key, cert } = makeCert('mx.test');
  writeFileSync(path.join(etc, 'key.pem'), key, { mode: 0o600 });
  writeFileSync(path.join(etc, 'cert.pem'), cert);
  const port = await freePort();
  let portWithoutChunking = await freePort();
  while (portWithoutChunking === port) portWithoutChunking = await freePort();
  writeFileSync(path.join(etc, 'main.cf'), mainCf(root, etc));
  writeFileSync(path.join(etc, 'master.cf'), masterCf(port, portWithoutChunking));
  writeFileSync(path.join(etc, 'header_checks'), '/^Subject:/ HOLD\n');
  writeFileSync(path.join(etc, 'rcpt_access'), RCPT_ACCESS);
  execFileSync('/usr/sbin/postfix', ['-c', etc, 'check'], { stdio: 'ignore' });
  const proc: Spawned = spawnPeer('/usr/sbin/postfix', ['-c', etc, 'start-fg']);
  const logFile = path.join(root, 'maillog');
  try {
    await waitForPort(port, '127.0.0.1', 20_000);
    await waitForPort(portWithoutChunking, '127.0.0.1', 20_000);
  } catch (e) {
    await proc.stop();
    throw new Error(`postfix did not start: ${proc.output()} ${safeRead(logFile)}`, { cause: e });
  }
  const postcat = (args: string[]): string =>
    execFileSync('/usr/sbin/postcat', ['-c', etc, ...args], { encoding: 'utf8' });
  return {
    port,
    portWithoutChunking,
    certPem: cert,
    content: (id) => postcat(['-bh', '-q', id]),
    envelope: (id) => postcat(['-e', '-q', id]),
    log: () => safeRead(logFile),
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

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function postfixUid(): number {
  return Number(execFileSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).trim());
}

function mainCf(root: string, etc: string): string {
  return `compatibility_level = 3.6
queue_directory = ${root}/spool
data_directory = ${root}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.test
mydomain = test
myorigin = mx.test
mydestination = mx.test
inet_interfaces = loopback-only
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
maillog_file = ${root}/maillog
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

function masterCf(port: number, withoutChunking: number): string {
  return `127.0.0.1:${port} inet n - n - - smtpd
[::1]:${port} inet n - n - - smtpd
127.0.0.1:${withoutChunking} inet n - n - - smtpd -o smtpd_discard_ehlo_keywords=silent-discard,chunking
pickup    unix  n - n 60 1 pickup
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
smtp      unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`;
}
