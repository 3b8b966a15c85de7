/**
 * The DSN writer's commit: the DSN stored as a new message (move `accept` of a message and its one
 * recipient) together with what it reports, in ONE transaction, guarded by the recipients'
 * previous state: move `bounce` (`failed` → `bounced`) for a failure DSN, `delay_notified_at`
 * for a delay notice (no move), nothing for a success notice (only the applier that moved the
 * recipients to `delivered` writes one). Whoever commits first writes the DSN; a concurrent or
 * replayed writer finds the recipients moved and writes nothing.
 */
import type { PrismaClient, RecipientRoute } from '@mta/db';
import { TX } from '../tx';
import { RECIPIENT } from '../transitions';
import { EventType } from '../vocabulary';
import { generatedMessageData } from './generated';

export type DsnKind = 'failed' | 'delayed' | 'success';

export interface StoredDsn {
  readonly kind: DsnKind;
  /** The message the DSN is about. */
  readonly about: { readonly id: string; readonly queueId: string };
  /** Its recipients the DSN reports. */
  readonly recipientIds: readonly string[];
  readonly now: Date;
  /** The DSN message. */
  readonly queueId: string;
  readonly to: string;
  readonly toDomain: string;
  readonly route: RecipientRoute;
  readonly content: Buffer;
  readonly chunkSize: number;
  readonly smtpUtf8: boolean;
  readonly eightBitMime: boolean;
  readonly messageIdHeader: string;
  readonly fromHeader: string;
  readonly subject: string;
  /** How much of the original came back (RET), for the events. */
  readonly returned: 'full' | 'headers' | 'none';
  /** The original was sent with REQUIRETLS: so is its DSN (RFC 8689 §5). */
  readonly requireTls?: boolean;
}

class LostRace extends Error {}

/** Stores the DSN and its move; the DSN message's id, or null when another writer was first. */
export async function storeDsn(
  db: Pick<PrismaClient, '$transaction'>,
  dsn: StoredDsn,
): Promise<string | null> {
  const ids = [...dsn.recipientIds];
  try {
    return await db.$transaction(async (tx) => {
      const { count } =
        dsn.kind === 'failed'
          ? await tx.recipient.updateMany({
              where: { id: { in: ids }, status: { in: [...RECIPIENT.bounce.from] } },
              data: { status: RECIPIENT.bounce.to },
            })
          : dsn.kind === 'delayed'
            ? await tx.recipient.updateMany({
                where: { id: { in: ids }, delayNotifiedAt: null },
                data: { delayNotifiedAt: dsn.now },
              })
            : { count: ids.length };
      if (count !== ids.length) throw new LostRace();
      const bounce = await tx.message.create({ select: { id: true }, data: dsnMessage(dsn) });
      // The recipients' `delivered` events are written with the outcome; a success notice itself
      // is the DSN message's `accepted` event (detail.kind `success`, detail.of the original).
      if (dsn.kind !== 'success')
        await tx.event.createMany({
          data: ids.map((recipientId) => ({
            type: dsn.kind === 'failed' ? RECIPIENT.bounce.event : EventType.delayed,
            messageId: dsn.about.id,
            queueId: dsn.about.queueId,
            recipientId,
            detail: { dsnQueueId: dsn.queueId, to: dsn.to, returned: dsn.returned },
          })),
        });
      return bounce.id;
    }, TX);
  } catch (error) {
    if (error instanceof LostRace) return null;
    throw error;
  }
}

/** The DSN as a new message (move `accept`, generated.ts). */
function dsnMessage(dsn: StoredDsn) {
  return generatedMessageData({
    queueId: dsn.queueId,
    source: 'bounce',
    to: dsn.to,
    toDomain: dsn.toDomain,
    route: dsn.route,
    content: dsn.content,
    chunkSize: dsn.chunkSize,
    now: dsn.now,
    fromHeader: dsn.fromHeader,
    subject: dsn.subject,
    messageIdHeader: dsn.messageIdHeader,
    smtpUtf8: dsn.smtpUtf8,
    eightBitMime: dsn.eightBitMime,
    requireTls: dsn.requireTls,
    detail: { source: 'bounce', kind: dsn.kind, of: dsn.about.queueId, size: dsn.content.length },
  });
}
