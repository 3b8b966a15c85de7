import type pg from 'pg';
import type { Logger } from '@mta/observability';
import { ACCEPTED_MAX_MESSAGES, JobProducer, QueueName, settlesWithin } from '@mta/queue';
import { SmtpError } from '@mta/smtp-protocol';
import { GroupCommit } from '@mta/db';
import { insertMessages } from '@mta/queue-state';
import type { IncomingMessage, StoredMessage } from './incoming-message';

export type { IncomingMessage, StoredMessage } from './incoming-message';

/**
 * Makes messages durable, then tells the queue (DESIGN.md, "A message's life", steps 2-3).
 *
 * The envelope, recipients, body chunks and the `accepted` event go to PostgreSQL in one
 * transaction (move `accept` of @mta/queue-state, `insertMessages`: one statement per batch); only when it has committed may the caller answer 250. If it fails, the caller
 * answers 451 4.3.0 and the client keeps its copy: nothing is lost. The `accepted` job that
 * follows carries ids only; if Redis is down at that moment the message still stands, and
 * the queue manager's reconciler finds it in PostgreSQL. So the 250 does not wait for Redis
 * either: the caller is answered at the commit and the jobs follow (`drain` waits for them at
 * shutdown). Waiting for them would add the Redis round trip's tail to every reply.
 *
 * Messages that end their DATA while earlier ones are being written share the next write
 * (GroupCommit): one statement and one commit for the lot. Each still gets its 250 only after
 * the commit that holds it.
 *
 * The `accepted` job goes to Redis after the 250s of its commit are written (setImmediate runs
 * once the promise callbacks that write them have run), and one at a time: the messages of the
 * commits that finish while one is on its way share the next job (up to ACCEPTED_MAX_MESSAGES).
 * A BullMQ job costs mx CPU (a Job object, its options packed, a Lua script call): one per
 * message is a large share of mx's CPU under load, and, built in the commit's callback, it was
 * on the way of every 250 of the batch (bench/README.md, "Measurements behind the code").
 */
export interface MessageWriterOptions {
  /**
   * Writes in flight at once; keep it under the pool's size. Default 1: on a machine whose cores
   * PostgreSQL shares, one write at a time makes fewer and bigger writes and keeps fewer database
   * backends runnable, for more messages per second and a shorter tail than with more
   * (bench/README.md, "Measurements behind the code").
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
  /** Items are the messages of one DATA (more than one when forwarding splits it): one commit holds them all. */
  private readonly group: GroupCommit<readonly IncomingMessage[], StoredMessage[]>;
  /** Messages for the `accepted` job: one job in flight; those that come meanwhile share the next. */
  private readonly jobs: GroupCommit<StoredMessage, void>;
  private readonly onBatch?: (messages: number) => void;
  /** `accepted` jobs on their way to Redis. */
  private readonly enqueuing = new Set<Promise<void>>();

  constructor(
    private readonly pool: Pick<pg.Pool, 'query'>,
    private readonly producer: JobProducer,
    private readonly logger: Logger,
    options: MessageWriterOptions = {},
  ) {
    this.group = new GroupCommit((batch) => this.write(batch), {
      maxInFlight: options.maxInFlight ?? 1,
      maxItems: options.maxBatch ?? 64,
      maxWeight: options.maxBatchBytes ?? 4 * 1024 * 1024,
      weight: (messages) => messages.reduce((n, m) => n + m.size, 0),
    });
    this.onBatch = options.onBatch;
    this.jobs = new GroupCommit((stored) => this.sendJob(stored), {
      maxInFlight: 1,
      maxItems: ACCEPTED_MAX_MESSAGES,
    });
  }

  async store(message: IncomingMessage): Promise<StoredMessage> {
    const [stored] = await this.storeAll([message]);
    return stored;
  }

  /** Several messages in one commit: all of them durable, or none (then 451 4.3.0). */
  async storeAll(messages: readonly IncomingMessage[]): Promise<StoredMessage[]> {
    try {
      return await this.group.submit(messages);
    } catch (error) {
      this.logger.error(
        {
          queueId: messages.map((m) => m.queueId).join(','),
          err: error instanceof Error ? error.message : String(error),
        },
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

  /** One statement for the batch; its ids then go in the next `accepted` job (enqueue). */
  private async write(groups: readonly (readonly IncomingMessage[])[]): Promise<StoredMessage[][]> {
    const batch = groups.flat();
    this.onBatch?.(batch.length);
    const result = await this.pool.query<{ id: string; queue_id: string }>(insertMessages(batch));
    const ids = new Map(result.rows.map((row) => [row.queue_id, row.id]));
    const stored = groups.map((group) =>
      group.map((m) => {
        const id = ids.get(m.queueId);
        if (!id) throw new Error(`the insert returned no id for ${m.queueId}`);
        return { id, queueId: m.queueId };
      }),
    );
    this.enqueue(stored.flat());
    return stored;
  }

  /** After the 250s of this commit are written, its messages join the next `accepted` job. */
  private enqueue(stored: readonly StoredMessage[]): void {
    const sent = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.jobs.submitAll(stored))
      .then(() => undefined)
      .finally(() => this.enqueuing.delete(sent));
    this.enqueuing.add(sent);
  }

  /** One job for these messages; never fails: a lost job is the reconciler's (the messages are in PostgreSQL). */
  private async sendJob(stored: readonly StoredMessage[]): Promise<void[]> {
    try {
      await this.producer.enqueue(QueueName.Accepted, { messageIds: stored.map((s) => s.id) });
    } catch (error) {
      this.logger.warn(
        {
          queueIds: stored.map((s) => s.queueId),
          err: error instanceof Error ? error.message : String(error),
        },
        'accepted job not enqueued',
      );
    }
    return stored.map(() => undefined);
  }
}
