/**
 * The dispatcher's moves (the statements are @mta/queue-state's), with their log lines and
 * counts: recipients that fail without (another) delivery attempt, because the message expired
 * or the address is on the suppression list (both then get the failure DSN, bounces.ts), and the
 * recipients of a paused destination, put off.
 */
import type { Recipient } from '@mta/db';
import {
  EXPIRED_REASON,
  expireRecipients,
  postponeRecipient,
  suppressRecipients,
  type MessageRef,
} from '@mta/queue-state';
import type { DispatchContext } from './dispatcher';
import { expiresAt } from './schedule';

/** Move `expire` before an attempt; how many moved. */
export async function expire(
  ctx: DispatchContext,
  msg: MessageRef,
  recipients: readonly Recipient[],
): Promise<number> {
  if (recipients.length === 0) return 0;
  const moved = new Set(await expireRecipients(ctx.db, msg, recipients));
  const log = ctx.logger.child({ queueId: msg.queueId });
  for (const r of recipients.filter((x) => moved.has(x.id)))
    log.info(
      { recipient: r.address, status: 'failed', reason: EXPIRED_REASON, lastReply: lastReplyOf(r) },
      'recipient expired',
    );
  ctx.metrics.count('expired', moved.size);
  return moved.size;
}

/** Move `suppress`; how many moved. */
export async function suppress(
  ctx: DispatchContext,
  msg: MessageRef,
  recipients: readonly Recipient[],
  reasons: ReadonlyMap<string, string>,
): Promise<number> {
  if (recipients.length === 0) return 0;
  const moved = new Set(await suppressRecipients(ctx.db, msg, recipients, reasons, ctx.now()));
  const log = ctx.logger.child({ queueId: msg.queueId });
  for (const r of recipients.filter((x) => moved.has(x.id)))
    log.info(
      { recipient: r.address, status: 'failed', reason: 'suppressed', suppression: reasons.get(r.id) },
      'recipient suppressed',
    );
  ctx.metrics.count('suppressed', moved.size);
  return moved.size;
}

/**
 * The recipients of paused destinations wait until the pause ends or `pauseRecheckMs` from
 * `base`, whichever is first, and never past the expiry.
 */
export async function postpone(
  ctx: DispatchContext,
  msg: MessageRef,
  recipients: readonly Recipient[],
  pauses: ReadonlyMap<string, Date | null>,
  base: Date,
): Promise<void> {
  if (recipients.length === 0) return;
  const expiry = expiresAt(ctx.schedule, msg.receivedAt).getTime();
  const log = ctx.logger.child({ queueId: msg.queueId });
  for (const r of recipients) {
    const until = pauses.get(r.domain)?.getTime() ?? Infinity;
    const next = new Date(
      Math.min(Math.max(until, base.getTime()), base.getTime() + ctx.pauseRecheckMs, expiry),
    );
    await postponeRecipient(ctx.db, r.id, next);
    log.info(
      { recipient: r.address, destination: r.domain, nextAttemptAt: next.toISOString() },
      'destination paused, recipient postponed',
    );
  }
  ctx.metrics.count('paused', recipients.length);
}

export function lastReplyOf(
  r: Pick<Recipient, 'lastReplyCode' | 'lastEnhancedCode' | 'lastReplyText'>,
): string | null {
  if (r.lastReplyCode === null) return null;
  return [r.lastReplyCode, r.lastEnhancedCode, r.lastReplyText]
    .filter((x) => x !== null && x !== '')
    .join(' ');
}

/**
 * A failed recipient whose failure is the expiry (status 4.4.7): its last reply is a 4xx, or it
 * had none at all. Not a 5xx, nor an operator's delete with bounce (no reply code, but 5.0.0).
 */
export function isExpired(r: Pick<Recipient, 'status' | 'lastReplyCode' | 'lastEnhancedCode'>): boolean {
  if (r.lastReplyCode === null) return r.lastEnhancedCode === null;
  return r.lastReplyCode < 500;
}
