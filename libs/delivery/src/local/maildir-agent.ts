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
 */
import { mkdir, open, rename, unlink } from 'node:fs/promises';
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
  /** Mode of created directories (default 0700) and files (default 0600). */
  readonly dirMode?: number;
  readonly fileMode?: number;
}

export class MaildirDeliveryAgent implements DeliveryAgent {
  constructor(private readonly options: MaildirAgentOptions) {}

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
    const mode = this.options.dirMode ?? 0o700;
    for (const sub of ['tmp', 'new', 'cur']) await mkdir(path.join(maildir, sub), { recursive: true, mode });
    await mkdir(dir, { recursive: true, mode });
    const marker = await open(path.join(dir, 'maildirfolder'), 'a', this.options.fileMode ?? 0o600);
    await marker.close();
    return dir;
  }

  private async write(dir: string, header: Buffer, request: DeliveryRequest): Promise<string> {
    const dirMode = this.options.dirMode ?? 0o700;
    for (const sub of ['tmp', 'new', 'cur'])
      await mkdir(path.join(dir, sub), { recursive: true, mode: dirMode });
    const name = uniqueName();
    const tmp = path.join(dir, 'tmp', name);
    const file = await open(tmp, 'wx', this.options.fileMode ?? 0o600); // never overwrite
    let written = false;
    try {
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
