import type pg from 'pg';
import type { Logger } from '@mta/observability';
import { JobProducer, QueueName, settlesWithin } from '@mta/queue';
import { SmtpError } from '@mta/smtp-protocol';
import { GroupCommit } from '@mta/db';
import type { IncomingMessage, StoredMessage } from './incoming-message';
import { insertMessages } from './insert-messages';

export type { IncomingMessage, StoredMessage } from './incoming-message';

/**
 * Makes messages durable, then tells the queue (DESIGN.md, "A message's life", steps 2-3).
 *
 * The envelope, recipients, body chunks and the `accepted` event go to PostgreSQL in one
 * transaction; only when it has committed may the caller answer 250. If it fails, the caller
 * answers 451 4.3.0 and the client keeps its copy: nothing is lost. The `accepted` job that
 * follows carries the id only; if Redis is down at that moment the message still stands, and
 * the queue manager's reconciler finds it in PostgreSQL. So the 250 does not wait for Redis
 * either: the caller is answered at the commit and the jobs follow (`drain` waits for them at
 * shutdown). Waiting for them added the Redis round trip's tail (p99 5-9 ms at 50 sessions)
 * to every reply.
 *
 * Messages that end their DATA while earlier ones are being written share the next write
 * (GroupCommit): one statement and one commit for the lot. Each still gets its 250 only after
 * the commit that holds it.
 *
 * The `accepted` jobs go to Redis after the 250s of their commit are written (setImmediate runs
 * once the promise callbacks that write them have run), and one `addBulk` at a time: the jobs of
 * commits that finish while one is in flight share the next. Building an `addBulk` costs mx
 * CPU (BullMQ builds an ioredis MULTI per call); done in the commit's callback, that cost was on
 * the way of every 250 of the batch.
 */
export interface MessageWriterOptions {
  /**
   * Writes in flight at once; keep it under the pool's size. Default 4: since the 250 no longer
   * waits for Redis, 4 gave the shortest tail at 50 sessions in bench/intake (p99 of the 250
   * after data 18.4-20.5 ms in three runs, against 33-38 ms with 2, 30 ms with 6 and 38 ms with
   * 8), at the same throughput as 2.
   */
  maxInFlight?: number;
  /** Messages per write at most. Default 64. */
  maxBatch?: number;
  /** Bytes of message per write at most (a bigger message goes alone). Default 4 MiB. */
  maxBatchBytes?: number;
  /** Told the number of messages in each write. */
  onBatch?: (messages: number) => void;
}

export class MessageWriter {
  private readonly group: GroupCommit<IncomingMessage, StoredMessage>;
  /** `accepted` jobs, one `addBulk` in flight; the jobs that come meanwhile share the next. */
  private readonly jobs: GroupCommit<StoredMessage, void>;
  /** `accepted` jobs on their way to Redis. */
  private readonly enqueuing = new Set<Promise<void>>();

  constructor(
    private readonly pool: Pick<pg.Pool, 'query'>,
    private readonly producer: JobProducer,
    private readonly logger: Logger,
    options: MessageWriterOptions = {},
  ) {
    this.group = new GroupCommit((batch) => this.write(batch), {
      maxInFlight: options.maxInFlight ?? 4,
      maxItems: options.maxBatch ?? 64,
      maxWeight: options.maxBatchBytes ?? 4 * 1024 * 1024,
      weight: (m) => m.size,
      onBatch: options.onBatch,
    });
    this.jobs = new GroupCommit((stored) => this.sendJobs(stored), { maxInFlight: 1, maxItems: 512 });
  }

  async store(message: IncomingMessage): Promise<StoredMessage> {
    try {
      return await this.group.submit(message);
    } catch (error) {
      this.logger.error(
        { queueId: message.queueId, err: error instanceof Error ? error.message : String(error) },
        'storing a message failed',
      );
      throw new SmtpError(451, '4.3.0', 'Temporary failure storing the message, please try again later', {
        cause: error,
      });
    }
  }

  /**
   * Resolves once every `accepted` job already on its way has reached Redis or failed, or after
   * `timeoutMs`; what is left is the reconciler's (the messages are in PostgreSQL).
   */
  async drain(timeoutMs = 5_000): Promise<void> {
    if (this.enqueuing.size > 0) await settlesWithin(Promise.all(this.enqueuing), timeoutMs);
  }

  /** One statement for the batch; its `accepted` jobs follow in one Redis round trip. */
  private async write(batch: readonly IncomingMessage[]): Promise<StoredMessage[]> {
    const result = await this.pool.query<{ id: string; queue_id: string }>(insertMessages(batch));
    const ids = new Map(result.rows.map((row) => [row.queue_id, row.id]));
    const stored = batch.map((m) => {
      const id = ids.get(m.queueId);
      if (!id) throw new Error(`the insert returned no id for ${m.queueId}`);
      return { id, queueId: m.queueId };
    });
    this.enqueue(stored);
    return stored;
  }

  /** After the 250s of this commit are written, the jobs join the next `addBulk`. */
  private enqueue(stored: readonly StoredMessage[]): void {
    const sent = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => Promise.all(stored.map((s) => this.jobs.submit(s))))
      .then(() => undefined)
      .finally(() => this.enqueuing.delete(sent));
    this.enqueuing.add(sent);
  }

  /** One `addBulk`; never fails: a lost job is the reconciler's, the message is in PostgreSQL. */
  private async sendJobs(stored: readonly StoredMessage[]): Promise<void[]> {
    try {
      await this.producer.enqueueMany(
        QueueName.Accepted,
        stored.map((s) => ({ messageId: s.id })),
      );
    } catch (error) {
      this.logger.warn(
        {
          queueIds: stored.map((s) => s.queueId),
          err: error instanceof Error ? error.message : String(error),
        },
        'accepted jobs not enqueued',
      );
    }
    return stored.map(() => undefined);
  }
}
