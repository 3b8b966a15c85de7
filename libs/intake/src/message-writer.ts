import type { DsnNotify, DsnRet } from '@mta/db';
import type pg from 'pg';
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
/**
 * The whole message in ONE statement (data-modifying CTEs run in one implicit transaction:
 * all rows or none), so a message costs one round trip to PostgreSQL and one commit. Prisma
 * would send seven statements and compile each query, which dominated intake's CPU time.
 * Each chunk is its own parameter: pg sends a Buffer parameter in binary, whereas a bytea[]
 * parameter would be hex-encoded as text, twice the bytes.
 */
const insertMessage = (chunks: number) => `
WITH m AS (
  INSERT INTO messages (queue_id, source, sender, client_address, client_helo, auth_user, size,
                        dsn_ret, dsn_envid, smtp_utf8, eight_bit_mime, message_id_header, from_header, subject)
  VALUES ($1, $2::message_source, $3, $4, $5, $6, $7, $8::dsn_ret, $9, $10, $11, $12, $13, $14)
  RETURNING id
), r AS (
  INSERT INTO recipients (message_id, address, domain, route, dsn_notify, dsn_orcpt, next_attempt_at)
  SELECT m.id, x.address, x.domain, x.route::recipient_route, x.notify::dsn_notify[], x.orcpt, now()
  FROM m, unnest($15::text[], $16::text[], $17::text[], $18::text[], $19::text[]) AS x(address, domain, route, notify, orcpt)
), c AS (
  INSERT INTO message_chunks (message_id, seq, data)
  SELECT m.id, x.seq - 1, x.data
  FROM m, unnest(ARRAY[${Array.from({ length: chunks }, (_, i) => `$${i + 21}::bytea`).join(', ') || 'NULL::bytea'}]) WITH ORDINALITY AS x(data, seq)
  WHERE x.data IS NOT NULL
), e AS (
  INSERT INTO events (message_id, queue_id, type, detail)
  SELECT m.id, $1, 'accepted', $20::jsonb FROM m
)
SELECT id FROM m`;

/** A Postgres array literal of enum values, e.g. `{SUCCESS,FAILURE}`. */
const enumArray = (values: readonly string[]) => `{${values.join(',')}}`;

export class MessageWriter {
  constructor(
    private readonly pool: Pick<pg.Pool, 'query'>,
    private readonly producer: JobProducer,
    private readonly logger: Logger,
  ) {}

  async store(message: IncomingMessage): Promise<StoredMessage> {
    const { queueId } = message;
    const r = message.recipients;
    let id: string;
    try {
      const result = await this.pool.query<{ id: string }>(insertMessage(message.chunks.length), [
        queueId,
        message.source,
        message.sender,
        message.clientAddress,
        message.clientHelo,
        message.authUser,
        message.size,
        message.dsnRet,
        message.dsnEnvid,
        message.smtpUtf8,
        message.eightBitMime,
        truncate(message.header.messageId, 998),
        truncate(message.header.from, 998),
        truncate(message.header.subject, 998),
        r.map((x) => x.address),
        r.map((x) => x.domain),
        r.map((x) => x.route),
        r.map((x) => enumArray(x.notify)),
        r.map((x) => x.orcpt),
        JSON.stringify({ source: message.source, size: message.size, recipients: r.length }),
        ...message.chunks,
      ]);
      id = result.rows[0]?.id ?? '';
      if (!id) throw new Error('the message insert returned no id');
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
