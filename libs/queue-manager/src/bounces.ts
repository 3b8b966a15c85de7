/**
 * Delivery status notifications (RFC 3464) written by the queue: one failure DSN per message per
 * batch of failed recipients, one delay notice per recipient at most, and one success notice
 * per message per outcome batch for recipients that asked for NOTIFY=SUCCESS (`delivered` for
 * our own mailboxes, `relayed` where the next hop took the mail without offering DSN).
 *
 * - Never to the null sender `<>` (RFC 5321 §4.5.5, RFC 3461 §6.1; `canSendDsn`), which is what
 *   stops bounce loops: a DSN has sender `<>` itself.
 * - Only for recipients whose NOTIFY asks for it (RFC 3461 §4.1; `shouldNotify`): NEVER never,
 *   FAILURE for failures, DELAY for delays; without NOTIFY, failures and (option
 *   `delayWhenNotifyAbsent`, default on) delays.
 * - RET (§4.3) decides whether the whole original or its header block comes back; ENVID (§4.4)
 *   and ORCPT (§4.2) are echoed in the report (`Original-Envelope-Id`, `Original-Recipient`).
 * - The DSN is stored as a new message (source `bounce`, sender `''`, one recipient: the original
 *   sender, routed local/relay/remote by its domain) together with the recipients' move
 *   `failed` → `bounced` (or `delay_notified_at`) in ONE transaction, guarded by the recipients'
 *   previous state: whoever commits first writes the DSN, a concurrent or replayed writer rolls
 *   back. Then its `accepted` job is enqueued: bounces go through the same queue as any message
 *   (and the reconciler enqueues it if Redis was away).
 * - It is DKIM-signed with the key of MTA_HOSTNAME's domain where one is active (dsn-signing.ts).
 */
import { newQueueId, readMessageBody, type Message, type Recipient, type RecipientRoute } from '@mta/db';
import { canSendDsn, composeDsn, shouldNotify, type DsnRecipient } from '@mta/mail';
import { QueueName } from '@mta/queue';
import type { NotifyCondition } from '@mta/smtp-protocol';
import type { Logger } from '@mta/observability';
import { EXPIRED_REASON, EXPIRED_STATUS, RecipientStatus, storeDsn, type DsnKind } from '@mta/queue-state';
import type { Context } from './context';
import { signDsn } from './dsn-signing';
import { isExpired, lastReplyOf } from './fail';
import { expiresAt } from './schedule';

/** Stored DSNs are cut into chunks of this size (`message_chunks`). */
const CHUNK_SIZE = 256 * 1024;

/** RFC 3464 §2.3.3: the actions that answer NOTIFY=SUCCESS (we do not expand). */
export type SuccessAction = 'delivered' | 'relayed';

export class DsnWriter {
  constructor(private readonly ctx: Context) {}

  /** Recipient ids that should be told about `action` (notify rules; the sender is checked by the caller). */
  wants(recipient: Pick<Recipient, 'dsnNotify'>, action: 'failed' | 'delayed' | SuccessAction): boolean {
    const notify = recipient.dsnNotify.length ? (recipient.dsnNotify as NotifyCondition[]) : undefined;
    return shouldNotify(notify, action, { delayWhenAbsent: this.ctx.delayWhenNotifyAbsent });
  }

  /**
   * The failure DSN for every `failed` recipient of the message that asked for one (once: they
   * become `bounced`). Returns the DSN's message id, or null when none was due.
   */
  async writeFailures(messageId: string): Promise<string | null> {
    const msg = await this.ctx.db.message.findUnique({ where: { id: messageId } });
    if (!msg || !canSendDsn(msg.sender)) return null;
    const failed = await this.ctx.db.recipient.findMany({
      where: { messageId, status: RecipientStatus.failed },
      orderBy: { address: 'asc' },
    });
    const due = failed.filter((r) => this.wants(r, 'failed'));
    if (due.length === 0) return null;
    return this.write(msg, due, 'failed');
  }

  /**
   * The success notice (RFC 3461 §4.1 NOTIFY=SUCCESS) for recipients just delivered, one DSN
   * for all of them, each with its action: `delivered` after final delivery (Maildir, LMTP),
   * `relayed` when the next hop took the message without offering DSN, so the request could not
   * go on (RFC 3461 §5.2.2). Called by whoever applied the deliveries (the outcome applier), so
   * a replayed outcome writes nothing. Returns the DSN's message id, or null when none was due.
   */
  async writeSuccess(messageId: string, actions: ReadonlyMap<string, SuccessAction>): Promise<string | null> {
    if (actions.size === 0) return null;
    const msg = await this.ctx.db.message.findUnique({ where: { id: messageId } });
    if (!msg || !canSendDsn(msg.sender)) return null;
    const rows = await this.ctx.db.recipient.findMany({
      where: { id: { in: [...actions.keys()] }, messageId, status: RecipientStatus.delivered },
      orderBy: { address: 'asc' },
    });
    const due = rows.filter((r) => this.wants(r, 'delivered'));
    if (due.length === 0) return null;
    return this.write(msg, due, 'success', actions);
  }

  /** One delay notice for these deferred recipients (those not yet warned who asked for it). */
  async writeDelayNotice(messageId: string, recipientIds: readonly string[]): Promise<string | null> {
    const msg = await this.ctx.db.message.findUnique({ where: { id: messageId } });
    if (!msg || !canSendDsn(msg.sender)) return null;
    const rows = await this.ctx.db.recipient.findMany({
      where: { id: { in: [...recipientIds] }, status: RecipientStatus.deferred, delayNotifiedAt: null },
      orderBy: { address: 'asc' },
    });
    const due = rows.filter((r) => this.wants(r, 'delayed'));
    if (due.length === 0) return null;
    return this.write(msg, due, 'delayed');
  }

  /** Composes the DSN, stores it with its move (storeDsn) and enqueues it like any message. */
  private async write(
    msg: Message,
    recipients: Recipient[],
    kind: DsnKind,
    actions?: ReadonlyMap<string, SuccessAction>,
  ): Promise<string | null> {
    const { ctx } = this;
    const now = ctx.now();
    const log = ctx.logger.child({ queueId: msg.queueId });
    const dsn = await this.compose(msg, recipients, kind, now, actions);
    const content = await signDsn(ctx, dsn.content, log);
    const to = dsn.envelope.to;
    const toDomain = to.includes('@') ? to.slice(to.lastIndexOf('@') + 1).toLowerCase() : '';
    const queueId = newQueueId(now.getTime());
    const bounceId = await storeDsn(ctx.db, {
      kind,
      about: msg,
      recipientIds: recipients.map((r) => r.id),
      now,
      queueId,
      to,
      toDomain,
      route: await this.routeOf(toDomain),
      content,
      chunkSize: CHUNK_SIZE,
      smtpUtf8: dsn.smtpUtf8,
      eightBitMime: dsn.eightBit,
      messageIdHeader: dsn.messageId,
      fromHeader: `Mail Delivery System <MAILER-DAEMON@${ctx.hostname}>`,
      subject: dsn.subject,
      returned: dsn.returned,
      requireTls: msg.requireTls,
    });
    if (bounceId === null) return null;
    this.report(kind, recipients, { log, queueId, to });
    try {
      await ctx.producer.enqueue(QueueName.Accepted, { messageIds: [bounceId] });
    } catch (error) {
      log.warn(
        { dsnQueueId: queueId, err: (error as Error).message },
        'accepted job of the DSN not enqueued; the reconciler will',
      );
    }
    return bounceId;
  }

  /** The DSN's text (RFC 3464) from the stored original, as one buffer. */
  private async compose(
    msg: Message,
    recipients: Recipient[],
    kind: DsnKind,
    now: Date,
    actions?: ReadonlyMap<string, SuccessAction>,
  ) {
    const { ctx } = this;
    const remoteHosts = await this.lastRemoteHosts(recipients.map((r) => r.id));
    const action = (r: Recipient) => (kind === 'success' ? (actions?.get(r.id) ?? 'delivered') : kind);
    const dsn = await composeDsn({
      sender: this.returnPath(msg.sender),
      envid: msg.dsnEnvid ?? undefined,
      // RFC 8689 §5: a notice about a REQUIRETLS message returns its header only, whatever
      // RET asked for, and travels with REQUIRETLS itself (storeDsn below).
      ret: msg.requireTls ? 'HDRS' : (msg.dsnRet ?? undefined),
      reportingMta: ctx.hostname,
      receivedFromMta: msg.clientHelo ?? undefined,
      arrivalDate: msg.receivedAt,
      date: now,
      maxReturnSize: ctx.maxReturnSize,
      recipients: recipients.map((r) => this.dsnRecipient(msg, r, action(r), remoteHosts.get(r.id))),
      original: {
        content: readMessageBody(ctx.db, msg.id),
        size: msg.size,
        body: msg.eightBitMime ? '8BITMIME' : undefined,
        smtpUtf8: msg.smtpUtf8,
        subject: msg.subject ?? undefined,
      },
    });
    const chunks: Buffer[] = [];
    for await (const chunk of dsn.stream) chunks.push(chunk as Buffer);
    return { ...dsn, content: Buffer.concat(chunks) };
  }

  /** Counts and one log line per recipient the DSN reports. */
  private report(
    kind: DsnKind,
    recipients: readonly Recipient[],
    { log, queueId, to }: { log: Logger; queueId: string; to: string },
  ): void {
    const { ctx } = this;
    ctx.metrics.dsns.inc({ kind });
    if (kind !== 'success') ctx.metrics.count(kind === 'failed' ? 'bounced' : 'delayed', recipients.length);
    const status = { failed: 'bounced', delayed: 'deferred', success: 'delivered' }[kind];
    const what = {
      failed: 'bounce written',
      delayed: 'delay notice written',
      success: 'success notice written',
    }[kind];
    for (const r of recipients) log.info({ recipient: r.address, status, dsnQueueId: queueId, to }, what);
  }

  private dsnRecipient(
    msg: Message,
    r: Recipient,
    kind: 'failed' | 'delayed' | SuccessAction,
    remoteMta?: string,
  ): DsnRecipient {
    const expired = kind === 'failed' && isExpired(r);
    const last = r.lastEnhancedCode;
    // RFC 3464 §2.3.4: a success notice says 2.x.x (the next hop's, when it gave one).
    const code =
      kind === 'failed' || kind === 'delayed'
        ? (last ?? (kind === 'failed' ? '5.0.0' : '4.0.0'))
        : last?.startsWith('2.')
          ? last
          : '2.0.0';
    const status = expired ? EXPIRED_STATUS : code;
    const reply = lastReplyOf(r);
    return {
      finalRecipient: r.address,
      originalRecipient: parseOrcpt(r.dsnOrcpt),
      action: kind,
      status,
      // Final delivery (Maildir, our LMTP server) has no remote MTA to name (RFC 3464 §2.3.5).
      remoteMta: kind === 'delivered' ? undefined : remoteMta,
      diagnosticCode: reply ?? (expired ? EXPIRED_REASON : undefined),
      diagnosticType: reply ? 'smtp' : 'x-mta',
      lastAttemptDate: r.lastAttemptAt ?? undefined,
      willRetryUntil: kind === 'delayed' ? expiresAt(this.ctx.schedule, msg.receivedAt) : undefined,
      finalLogId: msg.queueId,
    };
  }

  /** The host that gave each recipient its last answer (`delivery_attempts.mx_host`). */
  private async lastRemoteHosts(recipientIds: string[]): Promise<Map<string, string>> {
    const rows = await this.ctx.db.deliveryAttempt.findMany({
      where: { recipientId: { in: recipientIds }, mxHost: { not: null } },
      orderBy: { startedAt: 'asc' },
      select: { recipientId: true, mxHost: true },
    });
    return new Map(rows.map((a) => [a.recipientId, a.mxHost as string]));
  }

  /**
   * Where the DSN goes: the sender, or, for a copy we forwarded with an SRS sender (intake's
   * forwarding.ts), the original sender it stands for; a bounce sent to our own SRS address
   * would only come back to us (and a local-domain SRS address is no mailbox).
   */
  private returnPath(sender: string): string {
    const reversed = this.ctx.srs?.reverse(sender);
    return reversed?.ok ? reversed.address : sender;
  }

  private async routeOf(domain: string): Promise<RecipientRoute> {
    const row = domain
      ? await this.ctx.db.domain.findUnique({ where: { name: domain }, select: { type: true } })
      : null;
    return row?.type ?? 'remote';
  }
}

/** ORCPT as stored, `addr-type;xtext` (RFC 3461 §4.2), decoded (`+HH` escapes, §4). */
export function parseOrcpt(value: string | null): DsnRecipient['originalRecipient'] {
  if (!value) return undefined;
  const semi = value.indexOf(';');
  if (semi <= 0) return undefined;
  const type = value.slice(0, semi).trim();
  const address = value
    .slice(semi + 1)
    .trim()
    .replace(/\+([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return { type, address };
}
