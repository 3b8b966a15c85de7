import { type DsnNotify, type DsnRet, type PrismaClient } from '@mta/db';
import type { Logger } from '@mta/observability';
import { JobProducer, QueueName } from '@mta/queue';
import { SmtpError } from '@mta/smtp-protocol';
import type { RecipientRoute } from './recipient-resolver';

/** Everything intake knows about a message at the end of DATA. */
export interface IncomingMessage {
  /** Chosen when the data began (see newQueueId), so the Received header can name it. */
  queueId: string;
  source: 'mx' | 'submission';
  /** Envelope sender; `''` for the null sender `<>`. */
  sender: string;
  clientAddress: string;
  clientHelo: string | null;
  authUser: string | null;
  recipients: {
    address: string;
    domain: string;
    route: RecipientRoute;
    notify: DsnNotify[];
    orcpt: string | null;
  }[];
  dsnRet: DsnRet | null;
  dsnEnvid: string | null;
  smtpUtf8: boolean;
  eightBitMime: boolean;
  header: { messageId: string | null; from: string | null; subject: string | null };
  /** The message, header and body, in order (see BodyCollector). */
  chunks: Buffer[];
  size: number;
}

export interface StoredMessage {
  id: string;
  queueId: string;
}

/**
 * Makes a message durable, then tells the queue (DESIGN.md, "A message's life", steps 2-3).
 *
 * The envelope, recipients, body chunks and the `accepted` event go to PostgreSQL in one
 * transaction; only when it has committed may the caller answer 250. If it fails, the caller
 * answers 451 4.3.0 and the client keeps its copy: nothing is lost. The `accepted` job that
 * follows carries the id only; if Redis is down at that moment the message still stands, and
 * the queue manager's reconciler finds it in PostgreSQL.
 */
export class MessageWriter {
  constructor(
    private readonly db: PrismaClient,
    private readonly producer: JobProducer,
    private readonly logger: Logger,
  ) {}

  async store(message: IncomingMessage): Promise<StoredMessage> {
    const { queueId } = message;
    let id: string;
    try {
      ({ id } = await this.db.message.create({
        select: { id: true },
        data: {
          queueId,
          source: message.source,
          sender: message.sender,
          clientAddress: message.clientAddress,
          clientHelo: message.clientHelo,
          authUser: message.authUser,
          size: message.size,
          dsnRet: message.dsnRet,
          dsnEnvid: message.dsnEnvid,
          smtpUtf8: message.smtpUtf8,
          eightBitMime: message.eightBitMime,
          messageIdHeader: truncate(message.header.messageId, 998),
          fromHeader: truncate(message.header.from, 998),
          subject: truncate(message.header.subject, 998),
          recipients: {
            createMany: {
              data: message.recipients.map((r) => ({
                address: r.address,
                domain: r.domain,
                route: r.route,
                dsnNotify: r.notify,
                dsnOrcpt: r.orcpt,
                nextAttemptAt: new Date(),
              })),
            },
          },
          // Socket buffers are backed by plain ArrayBuffers; Prisma's Bytes type insists on saying so.
          chunks: {
            createMany: {
              data: message.chunks.map((data, seq) => ({ seq, data: data as Uint8Array<ArrayBuffer> })),
            },
          },
          events: {
            create: {
              type: 'accepted',
              queueId,
              detail: { source: message.source, size: message.size, recipients: message.recipients.length },
            },
          },
        },
      }));
    } catch (error) {
      this.logger.error(
        { queueId, err: error instanceof Error ? error.message : String(error) },
        'storing a message failed',
      );
      throw new SmtpError(451, '4.3.0', 'Temporary failure storing the message, please try again later', {
        cause: error,
      });
    }

    try {
      await this.producer.enqueue(QueueName.Accepted, { messageId: id });
    } catch (error) {
      // The message is safe in PostgreSQL; the reconciler will enqueue it.
      this.logger.warn(
        { queueId, err: error instanceof Error ? error.message : String(error) },
        'accepted job not enqueued',
      );
    }
    return { id, queueId };
  }
}

function truncate(value: string | null, max: number): string | null {
  return value === null ? null : value.slice(0, max);
}
