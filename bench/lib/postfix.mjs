// A private Postfix instance for a bench run: its own main.cf/master.cf, queue, data directory
// and log file in a temporary directory, no chroot, smtpd on a free loopback port, run in the
// foreground (`postfix start-fg`) as root (the daemons drop to the `postfix` user).
import { spawn, execFileSync } from 'node:child_process';
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
import os from 'node:os';
import path from 'node:path';
import { onCleanup } from './cleanup.mjs';
import { deadline, freePort, portOpen, run, waitFor } from './processes.mjs';

export const POSTFIX = '/usr/sbin/postfix';
export const POSTQUEUE = '/usr/sbin/postqueue';

/** main.cf settings every private instance has: paths, owner, loopback only, its own log file. */
export function baseMainCf(dir) {
  return `compatibility_level = 3.6
queue_directory = ${dir}/spool
data_directory = ${dir}/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
biff = no
smtpd_banner = $myhostname ESMTP
maillog_file = ${dir}/maillog
maillog_file_prefixes = ${dir}
shlib_directory = /usr/lib/postfix
daemon_directory = /usr/lib/postfix/sbin
command_directory = /usr/sbin
meta_directory = /etc/postfix
`;
}

/** master.cf: smtpd on 127.0.0.1:`port` and the internal services, none chrooted (delivery agents are added by the caller). */
export function baseMasterCf(port) {
  return `127.0.0.1:${port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
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
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`;
}

/**
 * Starts a private Postfix. `mainCf(dir)` and `masterCf(port)` return the two files' text
 * (build them from baseMainCf/baseMasterCf). Resolves once smtpd accepts connections.
 */
export async function startPostfix({ mainCf, masterCf }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-postfix-'));
  chmodSync(dir, 0o755); // the daemons run as `postfix` and must reach the queue
  const etc = path.join(dir, 'etc');
  const data = path.join(dir, 'data');
  for (const d of [etc, data, path.join(dir, 'spool')]) mkdirSync(d, { recursive: true });
  const uid = Number(execFileSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).trim());
  chownSync(data, uid, -1);
  const maillog = path.join(dir, 'maillog');
  const readLog = () => (existsSync(maillog) ? readFileSync(maillog, 'utf8') : '');
  let child = null;
  let exited = false;
  let exit = Promise.resolve();
  const stop = onCleanup(async () => {
    if (child) {
      await run(POSTFIX, ['-c', etc, 'stop'], { timeoutMs: 20_000 });
      await Promise.race([exit, deadline(10_000)]);
      if (!exited) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const port = await freePort();
  writeFileSync(path.join(etc, 'main.cf'), mainCf(dir));
  writeFileSync(path.join(etc, 'master.cf'), masterCf(port));
  const checked = await run(POSTFIX, ['-c', etc, 'check']);
  if (checked.code !== 0) {
    await stop();
    throw new Error(`postfix check: ${checked.stdout}${checked.stderr}`);
  }
  child = spawn(POSTFIX, ['-c', etc, 'start-fg'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output = (output + d).slice(-20_000)));
  child.stderr.on('data', (d) => (output = (output + d).slice(-20_000)));
  exit = new Promise((resolve) => child.on('exit', () => ((exited = true), resolve())));
  try {
    await waitFor('postfix smtpd port', async () => !exited && (await portOpen(port)), 20_000);
  } catch (e) {
    const log = readLog();
    await stop();
    throw new Error(`postfix did not start: ${e.message}\n${output}\n${log}`);
  }
  return {
    name: 'postfix',
    port,
    etc,
    dir,
    masterPid: () => {
      try {
        return Number(readFileSync(path.join(dir, 'spool/pid/master.pid'), 'utf8').trim());
      } catch {
        return 0;
      }
    },
    maillog: readLog,
    queueEmpty: async () => /Mail queue is empty/.test((await run(POSTQUEUE, ['-c', etc, '-p'])).stdout),
    stop,
  };
}
