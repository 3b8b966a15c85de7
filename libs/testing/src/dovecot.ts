/**
 * A private Dovecot LMTP server for tests (`dovecot -c <tmp>/dovecot.conf -F`): its own base,
 * state and log directories in a temp dir, LMTP only, on 127.0.0.1 and a free port, mail in
 * `<tmp>/mail/%d/%n/Maildir`. Users come from a passwd-file (anyone else: 550 5.1.1 at RCPT);
 * a user may get a tiny quota, answered after the final dot with 452 4.2.2
 * (`quota_full_tempfail`). Dovecot refuses uid 0 for mail access, so mail is written as
 * `nobody` into a world-writable temp dir. Requires root (Dovecot's master drops privileges).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';
import { spawnPeer, waitForPort } from './peer-process';

export const DOVECOT = '/usr/sbin/dovecot';
export const haveDovecotLmtp = (): boolean =>
  existsSync(DOVECOT) && existsSync('/usr/lib/dovecot/lmtp') && process.getuid?.() === 0;

export interface DovecotUser {
  readonly address: string;
  /** Storage quota in kilobytes (Dovecot's unit); absent: no quota. */
  readonly quotaKb?: number;
}

export interface Dovecot {
  readonly port: number;
  /** The Maildir of a user: `<mail>/<domain>/<local>/Maildir`. */
  maildir(address: string): string;
  log(): string;
  stop(): Promise<void>;
}

export async function startDovecot(users: readonly DovecotUser[]): Promise<Dovecot> {
  const root = mkdtempSync(path.join(tmpdir(), 'dovecot-'));
  const mail = path.join(root, 'mail');
  for (const d of ['run', 'state', 'mail']) mkdirSync(path.join(root, d));
  chmodSync(root, 0o755);
  chmodSync(mail, 0o777); // written as nobody
  const home = (address: string): string => {
    const [local, domain] = address.split('@');
    return path.join(mail, domain, local);
  };
  writeFileSync(
    path.join(root, 'users'),
    users
      .map((u) => {
        const extra = u.quotaKb === undefined ? '' : `userdb_quota_rule=*:storage=${u.quotaKb}`;
        return `${u.address}::65534:65534::${home(u.address)}::${extra}\n`;
      })
      .join(''),
  );
  const port = await freePort('127.0.0.1');
  const logFile = path.join(root, 'dovecot.log');
  writeFileSync(
    path.join(root, 'dovecot.conf'),
    `protocols = lmtp
listen = 127.0.0.1
base_dir = ${root}/run
state_dir = ${root}/state
log_path = ${logFile}
info_log_path = ${logFile}
ssl = no
default_internal_user = root
default_internal_group = root
default_login_user = root
mail_location = maildir:${mail}/%d/%n/Maildir
mail_plugins = quota
quota_full_tempfail = yes
plugin {
  quota = maildir:User quota
}
passdb {
  driver = passwd-file
  args = ${root}/users
}
userdb {
  driver = passwd-file
  args = ${root}/users
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${port}
  }
}
`,
  );
  const proc = spawnPeer(DOVECOT, ['-c', path.join(root, 'dovecot.conf'), '-F']);
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  try {
    await waitForPort(port, '127.0.0.1', 15_000);
  } catch (e) {
    await proc.stop();
    throw new Error(`dovecot did not start: ${proc.output()} ${log()}`, { cause: e });
  }
  return {
    port,
    maildir: (address) => path.join(home(address), 'Maildir'),
    log,
    async stop() {
      await proc.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
