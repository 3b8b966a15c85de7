/**
 * The dispatcher's moves (transitions.ts): recipients that fail before any (further) attempt,
 * `expire` and `suppress`, and the postponing of a paused destination's recipients (no move: only
 * their next attempt). Each recipient is moved only from the table's `from` states, so one that
 * changed meanwhile (a concurrent outcome, an operator) is left alone.
 */
import type { PrismaClient, Recipient } from '@mta/db';
import { TX } from '../tx';
import { RECIPIENT } from '../transitions';
import { WAITING } from '../vocabulary';
import type { MessageRef } from '../sql/load';

type Db = Pick<PrismaClient, '$transaction'>;

/** RFC 3463 §3.5: X.4.7 "Delivery time expired". */
export const EXPIRED_STATUS = '4.4.7';
export const EXPIRED_REASON = `${EXPIRED_STATUS} message expired`;
/** RFC 3463 §3.8: X.7.1 "Delivery not authorized, message refused". */
export const SUPPRESSED_REPLY = {
  code: 550,
  enhanced: '5.7.1',
  text: 'Recipient address suppressed',
} as const;

/**
 * Move `expire` before an attempt: the recipient keeps its last remote reply (the DSN quotes it
 * as the diagnostic, with status 4.4.7). Returns the ids moved.
 */
export async function expireRecipients(
  db: Db,
  msg: MessageRef,
  recipients: readonly Recipient[],
): Promise<string[]> {
  const move = RECIPIENT.expire;
  const moved: string[] = [];
  if (recipients.length === 0) return moved;
  await db.$transaction(async (tx) => {
    for (const r of recipients) {
      const { count } = await tx.recipient.updateMany({
        where: { id: r.id, status: { in: [...WAITING] } },
        data: { status: move.to, nextAttemptAt: null },
      });
      if (count === 0) continue;
      moved.push(r.id);
      await tx.event.create({
        data: {
          type: move.event,
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
  return moved;
}

/**
 * Move `suppress`: fails at once with 550 5.7.1, as if the next hop had refused it; the reply
 * text says why (the suppression's reason), so the DSN does. Returns the ids moved.
 */
export async function suppressRecipients(
  db: Db,
  msg: MessageRef,
  recipients: readonly Recipient[],
  reasons: ReadonlyMap<string, string>,
  now: Date,
): Promise<string[]> {
  const move = RECIPIENT.suppress;
  const moved: string[] = [];
  if (recipients.length === 0) return moved;
  await db.$transaction(async (tx) => {
    for (const r of recipients) {
      const reason = reasons.get(r.id) ?? null;
      const { count } = await tx.recipient.updateMany({
        where: { id: r.id, status: { in: [...move.from] } },
        data: {
          status: move.to,
          nextAttemptAt: null,
          lastAttemptAt: now,
          lastReplyCode: SUPPRESSED_REPLY.code,
          lastEnhancedCode: SUPPRESSED_REPLY.enhanced,
          lastReplyText: suppressedText(reason),
        },
      });
      if (count === 0) continue;
      moved.push(r.id);
      await tx.event.create({
        data: {
          type: move.event,
          messageId: msg.id,
          queueId: msg.queueId,
          recipientId: r.id,
          detail: {
            reason: 'suppressed',
            suppression: reason,
            replyCode: SUPPRESSED_REPLY.code,
            enhancedCode: SUPPRESSED_REPLY.enhanced,
          },
        },
      });
    }
  }, TX);
  return moved;
}

/** The reply text of a suppressed recipient: what the DSN says. */
export function suppressedText(reason: string | null): string {
  return reason ? `${SUPPRESSED_REPLY.text} (${reason})` : SUPPRESSED_REPLY.text;
}

/** A paused destination's recipient waits until `next` (no move: its status stays). */
export async function postponeRecipient(
  db: Pick<PrismaClient, 'recipient'>,
  recipientId: string,
  next: Date,
): Promise<boolean> {
  const { count } = await db.recipient.updateMany({
    where: { id: recipientId, status: { in: [...WAITING] } },
    data: { nextAttemptAt: next },
  });
  return count > 0;
}
