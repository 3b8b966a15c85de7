/**
 * Recipients that fail without (another) delivery attempt: the message expired, or the address
 * is on the suppression list. Both become `failed`, and the failure DSN follows (see bounces.ts).
 */
import type { Recipient } from '@mta/db';
import type { Context } from './context';
import { TX, type MessageRef } from './types';

/** RFC 3463 §3.5: X.4.7 "Delivery time expired". */
export const EXPIRED_STATUS = '4.4.7';
export const EXPIRED_REASON = `${EXPIRED_STATUS} message expired`;
/** RFC 3463 §3.8: X.7.1 "Delivery not authorized, message refused". */
export const SUPPRESSED_REPLY = {
  code: 550,
  enhanced: '5.7.1',
  text: 'Recipient address suppressed',
} as const;

const WAITING = ['queued', 'deferred'] as const;

/**
 * Expired: the recipient keeps its last remote reply (the DSN quotes it as the diagnostic, with
 * status 4.4.7); an expired recipient is recognisable as `failed` with no or a non-5xx last reply.
 */
export async function expireRecipients(
  ctx: Context,
  msg: MessageRef,
  recipients: readonly Recipient[],
): Promise<number> {
  if (recipients.length === 0) return 0;
  let n = 0;
  await ctx.db.$transaction(async (tx) => {
    for (const r of recipients) {
      const { count } = await tx.recipient.updateMany({
        where: { id: r.id, status: { in: [...WAITING] } },
        data: { status: 'failed', nextAttemptAt: null },
      });
      if (count === 0) continue;
      n++;
      await tx.event.create({
        data: {
          type: 'expired',
          messageId: msg.id,
          queueId: msg.queueId,
          recipientId: r.id,
          detail: {
            reason: EXPIRED_REASON,
            attempts: r.attempts,
            replyCode: r.lastReplyCode,
            enhancedCode: r.lastEnhancedCode,
            replyText: r.lastReplyText,
          },
        },
      });
    }
  }, TX);
  const log = ctx.logger.child({ queueId: msg.queueId });
  for (const r of recipients)
    log.info(
      { recipient: r.address, status: 'failed', reason: EXPIRED_REASON, lastReply: lastReplyOf(r) },
      'recipient expired',
    );
  ctx.metrics.count('expired', n);
  return n;
}

/** Suppressed: fails at once with 550 5.7.1, as if the next hop had refused it. */
export async function suppressRecipients(
  ctx: Context,
  msg: MessageRef,
  recipients: readonly Recipient[],
  reasons: ReadonlyMap<string, string>,
): Promise<number> {
  if (recipients.length === 0) return 0;
  const now = ctx.now();
  let n = 0;
  await ctx.db.$transaction(async (tx) => {
    for (const r of recipients) {
      const { count } = await tx.recipient.updateMany({
        where: { id: r.id, status: { in: [...WAITING] } },
        data: {
          status: 'failed',
          nextAttemptAt: null,
          lastAttemptAt: now,
          lastReplyCode: SUPPRESSED_REPLY.code,
          lastEnhancedCode: SUPPRESSED_REPLY.enhanced,
          lastReplyText: SUPPRESSED_REPLY.text,
        },
      });
      if (count === 0) continue;
      n++;
      await tx.event.create({
        data: {
          type: 'failed',
          messageId: msg.id,
          queueId: msg.queueId,
          recipientId: r.id,
          detail: {
            reason: 'suppressed',
            suppression: reasons.get(r.id) ?? null,
            replyCode: 550,
            enhancedCode: '5.7.1',
          },
        },
      });
    }
  }, TX);
  const log = ctx.logger.child({ queueId: msg.queueId });
  for (const r of recipients)
    log.info({ recipient: r.address, status: 'failed', reason: 'suppressed' }, 'recipient suppressed');
  ctx.metrics.count('suppressed', n);
  return n;
}

export function lastReplyOf(
  r: Pick<Recipient, 'lastReplyCode' | 'lastEnhancedCode' | 'lastReplyText'>,
): string | null {
  if (r.lastReplyCode === null) return null;
  return [r.lastReplyCode, r.lastEnhancedCode, r.lastReplyText]
    .filter((x) => x !== null && x !== '')
    .join(' ');
}

/** A failed recipient whose failure is the expiry (status 4.4.7), not a 5xx. */
export function isExpired(r: Pick<Recipient, 'status' | 'lastReplyCode'>): boolean {
  return r.lastReplyCode === null || r.lastReplyCode < 500;
}
