/**
 * Local delivery to Maildir (`LOCAL_DELIVERY=maildir:/path`): one file per recipient in
 * `<root>/<domain>/<localpart>/Maildir/new/`, written the Maildir way: create a uniquely named
 * file in `tmp/`, write it, fsync it, rename it into `new/`, fsync `new/`. A reader never sees a
 * partial message, and a crash leaves at most a stale file in `tmp/`.
 *
 * On top of the message go `Return-Path: <sender>` (RFC 5321 §4.4: added at final delivery)
 * and `Delivered-To: <recipient>` (Postfix, qmail: names the mailbox, for loop detection).
 * Lines are stored with LF, as Maildir readers expect (qmail, Dovecot's default).
 *
 * A message the inbound policy quarantined (DMARC p=quarantine) goes to the Maildir++ folder
 * `Junk` instead: `Maildir/.Junk/`, marked as a folder by an empty `maildirfolder` file
 * (Courier's maildir++ convention, which Dovecot follows), where IMAP clients show "Junk".
 *
 * Permissions (MAILDIR_FILE_MODE, MAILDIR_DIR_MODE, MAILDIR_OWNER): files 0660 and directories
 * 2770 by default, set with chmod so that the umask does not narrow them. The IMAP server can
 * then run as another user in the same group: it reads the files, moves them from new/ to cur/
 * and writes its index files beside them, and setgid directories give everything created inside
 * (by us or by it) the tree's group. Nothing for others: mail is private.
 */
import { chmod, chown, mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { openBody } from '../body';
import type {
  DeliveryAgent,
  DeliveryRecipient,
  DeliveryReport,
  DeliveryRequest,
  RecipientDelivery,
} from '../contract';
import { maildirOf, uniqueName } from './maildir-name';

export interface MaildirAgentOptions {
  /** The tree's root (`LOCAL_DELIVERY=maildir:<root>`). */
  readonly root: string;
  /** Mode of created directories (default 02770) and files (default 0660), umask or not. */
  readonly dirMode?: number;
  readonly fileMode?: number;
  /** Owner and/or group of what is created (chown); absent: the process's, and setgid's group. */
  readonly owner?: { readonly uid?: number; readonly gid?: number };
}

export const DEFAULT_FILE_MODE = 0o660;
export const DEFAULT_DIR_MODE = 0o2770;

export class MaildirDeliveryAgent implements DeliveryAgent {
  private readonly dirMode: number;
  private readonly fileMode: number;

  constructor(private readonly options: MaildirAgentOptions) {
    this.dirMode = options.dirMode ?? DEFAULT_DIR_MODE;
    this.fileMode = options.fileMode ?? DEFAULT_FILE_MODE;
    checkOwner(options.owner);
  }

  async deliver(request: DeliveryRequest): Promise<DeliveryReport> {
    const results: RecipientDelivery[] = [];
    for (const r of request.recipients) {
      if (request.signal?.aborted) {
        results.push(verdict(r, 'deferred', 451, '4.3.0', 'delivery interrupted (worker stopping)'));
      } else {
        results.push(await this.deliverOne(request, r));
      }
    }
    return { status: 'attempted', results };
  }

  async close(): Promise<void> {
    /* nothing held between deliveries */
  }

  private async deliverOne(request: DeliveryRequest, r: DeliveryRecipient): Promise<RecipientDelivery> {
    const target = maildirOf(this.options.root, r.address);
    // RFC 3463 X.1.3 "Bad destination mailbox address syntax"
    if ('error' in target) return verdict(r, 'failed', 550, '5.1.3', target.error);
    const header = Buffer.from(
      `Return-Path: <${request.envelope.sender}>\nDelivered-To: ${r.address}\n`,
      'utf8',
    );
    try {
      const dir = request.quarantine ? await this.junkFolder(target.dir) : target.dir;
      const name = await this.write(dir, header, request);
      const where = request.quarantine ? 'the Junk folder of the maildir' : 'maildir';
      return verdict(r, 'delivered', 250, '2.0.0', `delivered to ${where} as ${name}`);
    } catch (e) {
      return failureOf(r, e);
    }
  }

  /** `Maildir/.Junk`, made a Maildir++ folder on first use (in a complete Maildir). */
  private async junkFolder(maildir: string): Promise<string> {
    const dir = path.join(maildir, '.Junk');
    for (const sub of ['tmp', 'new', 'cur']) await this.makeDir(path.join(maildir, sub));
    await this.makeDir(dir);
    const marker = await open(path.join(dir, 'maildirfolder'), 'a', this.fileMode);
    try {
      await this.own(marker);
    } finally {
      await marker.close();
    }
    return dir;
  }

  /**
   * mkdir -p, then owner and mode on each level it created: mkdir's mode is narrowed by the
   * umask and Linux ignores setgid in it. Existing directories are left as they are.
   */
  private async makeDir(dir: string): Promise<void> {
    const first = await mkdir(dir, { recursive: true, mode: this.dirMode });
    if (first === undefined) return;
    const { uid = -1, gid = -1 } = this.options.owner ?? {};
    for (let d = dir; ; d = path.dirname(d)) {
      if (this.options.owner) await chown(d, uid, gid); // before chmod: chown may clear setgid
      await chmod(d, this.dirMode);
      if (d === first || d === path.dirname(d)) break;
    }
  }

  /** The file's owner and mode, whatever the umask (fchown, fchmod). */
  private async own(file: FileHandle): Promise<void> {
    const owner = this.options.owner;
    if (owner) await file.chown(owner.uid ?? -1, owner.gid ?? -1);
    await file.chmod(this.fileMode);
  }

  private async write(dir: string, header: Buffer, request: DeliveryRequest): Promise<string> {
    for (const sub of ['tmp', 'new', 'cur']) await this.makeDir(path.join(dir, sub));
    const name = uniqueName();
    const tmp = path.join(dir, 'tmp', name);
    const file = await open(tmp, 'wx', this.fileMode); // never overwrite
    let written = false;
    try {
      await this.own(file);
      await file.write(header);
      const lf = new CrlfToLf();
      const body = openBody(request.body);
      try {
        for await (const chunk of body) await file.write(lf.push(chunk as Buffer));
      } finally {
        body.destroy();
      }
      await file.write(lf.end());
      await file.sync(); // the data is on disk before the name appears in new/
      written = true;
    } finally {
      await file.close();
      if (!written) await unlink(tmp).catch(() => undefined);
    }
    await rename(tmp, path.join(dir, 'new', name));
    await syncDirectory(path.join(dir, 'new')); // and so is the new name
    return name;
  }
}

/** CRLF → LF across chunk boundaries; a lone CR is kept as it is. */
export class CrlfToLf {
  private pendingCr = false;

  push(chunk: Buffer): Buffer {
    if (chunk.length === 0) return chunk;
    const out = Buffer.allocUnsafe(chunk.length + 1);
    let n = 0;
    let i = 0;
    if (this.pendingCr) {
      this.pendingCr = false;
      if (chunk[0] !== 0x0a) out[n++] = 0x0d;
    }
    for (; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === 0x0d) {
        if (i + 1 === chunk.length) {
          this.pendingCr = true;
          break;
        }
        if (chunk[i + 1] === 0x0a) continue; // drop the CR of a CRLF
      }
      out[n++] = b;
    }
    return out.subarray(0, n);
  }

  end(): Buffer {
    const rest = this.pendingCr ? Buffer.from([0x0d]) : Buffer.alloc(0);
    this.pendingCr = false;
    return rest;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function verdict(
  r: DeliveryRecipient,
  kind: RecipientDelivery['kind'],
  code: number,
  enhanced: string,
  text: string,
): RecipientDelivery {
  return {
    recipientId: r.id,
    address: r.address,
    kind,
    code,
    enhanced,
    text,
    source: 'local',
    remote: { host: 'maildir' },
  };
}

/** Disk trouble is temporary: the queue retries (RFC 3463 X.2.2, X.3.1, X.3.0). */
function failureOf(r: DeliveryRecipient, e: unknown): RecipientDelivery {
  const code = (e as NodeJS.ErrnoException).code;
  const detail = e instanceof Error ? e.message : String(e);
  if (code === 'EDQUOT') return verdict(r, 'deferred', 452, '4.2.2', `mailbox over quota: ${detail}`);
  if (code === 'ENOSPC') return verdict(r, 'deferred', 452, '4.3.1', `mail system full: ${detail}`);
  return verdict(r, 'deferred', 451, '4.3.0', `cannot write to the maildir: ${detail}`);
}

/**
 * Fails at start, not at every delivery: another uid needs root, a gid root or membership
 * (chown(2): EPERM otherwise).
 */
function checkOwner(owner: MaildirAgentOptions['owner']): void {
  if (!owner || process.getuid === undefined || process.getuid() === 0) return;
  if (owner.uid !== undefined && owner.uid !== process.getuid())
    throw new Error(
      `MAILDIR_OWNER: uid ${owner.uid} needs the process to run as root (it runs as ${process.getuid()})`,
    );
  const groups = process.getgroups?.() ?? [];
  if (owner.gid !== undefined && !groups.includes(owner.gid))
    throw new Error(`MAILDIR_OWNER: gid ${owner.gid} needs root or membership of that group`);
}
