/**
 * A private Postfix instance for tests: its own config, queue, data and log under a temp dir
 * (never the system instance), started in the foreground and stopped with its directory. What
 * differs between the tests' Postfixes (the receiving MX of delivery tests, the peer of the SMTP
 * client's tests) is their main.cf lines, their smtpd listeners and their map files; the rest is
 * here once. Root only: Postfix drops to the `postfix` user.
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

export const havePostfixBinary = (): boolean => existsSync('/usr/sbin/postfix') && process.getuid?.() === 0;

export interface PostfixInstanceOptions {
  /** Prefix of the temp directory (`postfix-mx-`, ...). */
  readonly name: string;
  /** The instance's own main.cf lines (hostname, restrictions, TLS...), given its config directory. */
  readonly mainCf: (etc: string) => string;
  /** Its smtpd lines of master.cf (`127.0.0.1:2525 inet n - n - - smtpd ...`). */
  readonly listeners: readonly string[];
  /** Files written in the config directory before it starts: maps, keys, certificates. */
  readonly files?: Readonly<Record<string, { readonly content: string; readonly mode?: number }>>;
  /** Where its listeners are, waited for before it counts as started. */
  readonly ports: readonly { readonly host: string; readonly port: number }[];
}

export interface PostfixInstance {
  /** Runs a Postfix command (`postcat`, `postqueue`...) against this instance; its stdout. */
  run(command: 'postcat' | 'postqueue', args: readonly string[]): string;
  log(): string;
  stop(): Promise<void>;
}

export async function startPostfixInstance(options: PostfixInstanceOptions): Promise<PostfixInstance> {
  const root = mkdtempSync(path.join(tmpdir(), options.name));
  chmodSync(root, 0o755); // Postfix daemons run as `postfix` and must reach the queue
  const etc = path.join(root, 'etc');
  const data = path.join(root, 'data');
  for (const d of [etc, data, path.join(root, 'spool')]) mkdirSync(d, { recursive: true });
  chownSync(data, Number(execFileSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).trim()), -1);
  for (const [file, { content, mode }] of Object.entries(options.files ?? {}))
    writeFileSync(path.join(etc, file), content, mode === undefined ? {} : { mode });
  writeFileSync(path.join(etc, 'main.cf'), baseMainCf(root) + options.mainCf(etc));
  writeFileSync(path.join(etc, 'master.cf'), [...options.listeners, SERVICES].join('\n'));
  execFileSync('/usr/sbin/postfix', ['-c', etc, 'check'], { stdio: 'ignore' });
  const proc = spawnPeer('/usr/sbin/postfix', ['-c', etc, 'start-fg']);
  const logFile = path.join(root, 'maillog');
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  try {
    for (const { host, port } of options.ports) await waitForPort(port, host, 20_000);
  } catch (e) {
    await proc.stop();
    rmSync(root, { recursive: true, force: true });
    throw new Error(`postfix did not start: ${proc.output()} ${log()}`, { cause: e });
  }
  return {
    run: (command, args) => execFileSync(`/usr/sbin/${command}`, ['-c', etc, ...args], { encoding: 'utf8' }),
    log,
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

/** What every test instance has: its own directories, loopback only, a log file, no aliases. */
function baseMainCf(root: string): string {
  return `compatibility_level = 3.6
queue_directory = ${root}/spool
data_directory = ${root}/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = loopback-only
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

/** master.cf's services besides the smtpd listeners (Debian's defaults, no local delivery). */
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
smtp      unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`;
