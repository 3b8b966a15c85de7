/**
 * Builds a `DeliveryRequest` for one delivery job from PostgreSQL: the message's envelope
 * (sender, SMTPUTF8, 8BITMIME, DSN RET/ENVID), the job's recipients (NOTIFY, ORCPT) and a body
 * source that streams `message_chunks` afresh on every call. The body never goes through Redis.
 */
import { decodeXtext } from '@mta/smtp-protocol';
import type { PrismaClient } from '@mta/db';
import { bodyFromDatabase } from './body';
import type { DeliveryRecipient, DeliveryRequest } from './contract';

export type RequestLoad =
  | { readonly ok: true; readonly request: DeliveryRequest }
  /** The message is gone (deleted by an administrator) or none of the recipients exist. */
  | { readonly ok: false; readonly reason: string };

export async function loadDeliveryRequest(
  db: Pick<PrismaClient, 'message' | 'recipient' | 'messageChunk'>,
  job: {
    readonly messageId: string;
    readonly recipientIds: readonly string[];
    readonly destination?: string;
  },
): Promise<RequestLoad> {
  const message = await db.message.findUnique({
    where: { id: job.messageId },
    select: {
      id: true,
      sender: true,
      size: true,
      smtpUtf8: true,
      eightBitMime: true,
      dsnRet: true,
      dsnEnvid: true,
    },
  });
  if (!message) return { ok: false, reason: `message ${job.messageId} does not exist` };
  const rows = await db.recipient.findMany({
    where: { messageId: message.id, id: { in: [...job.recipientIds] } },
    select: { id: true, address: true, dsnNotify: true, dsnOrcpt: true },
  });
  if (rows.length === 0) return { ok: false, reason: `no recipient of the job exists for ${job.messageId}` };
  const byId = new Map(rows.map((r) => [r.id, r]));
  const recipients: DeliveryRecipient[] = job.recipientIds.flatMap((id) => {
    const r = byId.get(id);
    if (!r) return [];
    const orcpt = orcptAddress(r.dsnOrcpt);
    return [
      {
        id: r.id,
        address: r.address,
        ...(r.dsnNotify.length ? { notify: r.dsnNotify } : {}),
        ...(orcpt ? { orcpt } : {}),
      },
    ];
  });
  return {
    ok: true,
    request: {
      messageId: message.id,
      destination: job.destination,
      envelope: {
        sender: message.sender,
        smtpUtf8: message.smtpUtf8,
        eightBitMime: message.eightBitMime,
        ...(message.dsnRet || message.dsnEnvid
          ? { dsn: { ret: message.dsnRet ?? undefined, envid: message.dsnEnvid ?? undefined } }
          : {}),
      },
      recipients,
      body: bodyFromDatabase(db, message.id),
      size: message.size,
    },
  };
}

/**
 * `recipients.dsn_orcpt` holds `addr-type;xtext` (RFC 3461 §4.2); the client wants the plain
 * address and encodes it again. Only `rfc822` types are passed on.
 */
function orcptAddress(stored: string | null): string | undefined {
  if (!stored) return undefined;
  const semi = stored.indexOf(';');
  if (semi === -1 || stored.slice(0, semi).toLowerCase() !== 'rfc822') return undefined;
  return decodeXtext(stored.slice(semi + 1)) ?? undefined;
}
