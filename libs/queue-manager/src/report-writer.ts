/**
 * Reports we write ourselves (TLS-RPT, RFC 8460 §5.3), put into our own queue like a DSN:
 * DKIM-signed with the key of MTA_HOSTNAME's domain (§5.3: a report must be signed; the same
 * keys and rule as our DSNs), stored with the null sender (a report that cannot be delivered
 * is not bounced to anyone) and source `report`, then an `accepted` job routes it.
 */
import type { PrismaClient, RecipientRoute } from '@mta/db';
import { newQueueId } from '@mta/db';
import { storeGeneratedMessage } from '@mta/queue-state';
import type { Logger } from '@mta/observability';
import { QueueName, type JobProducer } from '@mta/queue';
import { signDsn } from './dsn-signing';

const CHUNK_SIZE = 256 * 1024;

export interface ReportWriterDeps {
  readonly db: PrismaClient;
  readonly producer: Pick<JobProducer, 'enqueue'>;
  /** MTA_HOSTNAME: whose domain's key signs. */
  readonly hostname: string;
  readonly logger: Logger;
}

/** Sign, store and queue `content` for `to`; returns the queue id. */
export async function writeReportMessage(
  deps: ReportWriterDeps,
  to: string,
  content: Buffer,
  summary: { subject: string; from: string },
): Promise<string> {
  const signed = await signDsn(deps, content, deps.logger);
  const domain = to.slice(to.lastIndexOf('@') + 1).toLowerCase();
  const row = await deps.db.domain.findUnique({ where: { name: domain }, select: { type: true } });
  const route: RecipientRoute = row?.type ?? 'remote';
  const queueId = newQueueId();
  // Move `accept` of a message we write (@mta/queue-state).
  const id = await storeGeneratedMessage(deps.db, {
    queueId,
    source: 'report',
    to,
    toDomain: domain,
    route,
    content: signed,
    chunkSize: CHUNK_SIZE,
    now: new Date(),
    fromHeader: summary.from,
    subject: summary.subject,
    detail: { source: 'report', size: signed.length },
  });
  try {
    await deps.producer.enqueue(QueueName.Accepted, { messageIds: [id] });
  } catch (error) {
    deps.logger.warn(
      { queueId, err: (error as Error).message },
      'accepted job of a report not enqueued; the reconciler will',
    );
  }
  return queueId;
}
