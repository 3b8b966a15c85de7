/**
 * Move `accept` of a message we write ourselves (a DSN, a TLS-RPT report): stored with the null
 * sender, one recipient due at once, its chunks and its `accepted` event, like intake's messages;
 * an `accepted` job then has the router take it.
 */
import type { Prisma, PrismaClient, RecipientRoute } from '@mta/db';
import { MESSAGE, RECIPIENT } from '../transitions';

export interface GeneratedMessage {
  readonly queueId: string;
  /** `bounce` for a DSN, `report` for a report. */
  readonly source: 'bounce' | 'report';
  readonly to: string;
  /** Lower-case domain of `to`. */
  readonly toDomain: string;
  readonly route: RecipientRoute;
  /** The whole message, signed where it should be. */
  readonly content: Buffer;
  /** Stored in chunks of this size (`message_chunks`). */
  readonly chunkSize: number;
  readonly now: Date;
  readonly fromHeader: string;
  readonly subject: string;
  readonly messageIdHeader?: string | null;
  readonly smtpUtf8?: boolean;
  readonly eightBitMime?: boolean;
  /** Deliver only as MAIL FROM ... REQUIRETLS asks (RFC 8689): a DSN about such a message. */
  readonly requireTls?: boolean;
  /** The `accepted` event's detail. */
  readonly detail: Prisma.InputJsonObject;
}

/** The message as Prisma creates it (also inside a transaction: the DSN writer's). */
export function generatedMessageData(m: GeneratedMessage) {
  return {
    queueId: m.queueId,
    sender: '',
    source: m.source,
    state: MESSAGE.accept.to,
    size: m.content.length,
    smtpUtf8: m.smtpUtf8 ?? false,
    eightBitMime: m.eightBitMime ?? false,
    requireTls: m.requireTls ?? false,
    messageIdHeader: m.messageIdHeader ?? null,
    fromHeader: m.fromHeader,
    subject: m.subject.slice(0, 998),
    receivedAt: m.now,
    recipients: {
      create: {
        address: m.to,
        domain: m.toDomain,
        route: m.route,
        status: RECIPIENT.accept.to,
        nextAttemptAt: m.now,
      },
    },
    chunks: {
      createMany: {
        data: splitChunks(m.content, m.chunkSize).map((data, seq) => ({
          seq,
          data: data as Uint8Array<ArrayBuffer>,
        })),
      },
    },
    events: { create: { type: MESSAGE.accept.event, queueId: m.queueId, detail: m.detail } },
  };
}

/** Stores a message we wrote; its id. */
export async function storeGeneratedMessage(
  db: Pick<PrismaClient, 'message'>,
  m: GeneratedMessage,
): Promise<string> {
  const row = await db.message.create({ select: { id: true }, data: generatedMessageData(m) });
  return row.id;
}

function splitChunks(content: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < content.length; i += size) out.push(content.subarray(i, i + size));
  return out.length ? out : [Buffer.alloc(0)];
}
