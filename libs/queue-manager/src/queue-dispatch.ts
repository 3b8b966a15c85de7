/**
 * How the admin API asks the queue manager to dispatch, after it changed a state through
 * @mta/queue-state (retry, release, resume): the queue manager's own dispatcher, with the same
 * settings as the `queue` service (RELAY_HOST, the retry schedule's expiry, pauses, suppressions),
 * run in the API's process so the API can answer with the jobs it enqueued. It plans nothing of
 * its own: a message never routed goes to the router (`accepted`), a routed one to the
 * dispatcher; a job of the same step already scheduled for later runs now (`ReplacingPlacer`).
 * Hold and delete withdraw the waiting jobs by the same planning.
 *
 * If Redis does not take a job the state change stands: the answer says `enqueueError` and the
 * reconciler enqueues the job later (PostgreSQL says the recipients are due).
 */
import type { PrismaClient } from '@mta/db';
import type { Logger } from '@mta/observability';
import { QueueName, type JobProducer } from '@mta/queue';
import {
  MESSAGE_REF,
  MessageState,
  WAITING,
  deliveryJobId,
  planJobs,
  type PlannedRecipient,
} from '@mta/queue-state';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { Dispatcher, type DispatchContext } from './dispatcher';
import { QueueManagerMetrics } from './metrics';
import { ReplacingPlacer } from './replacing-placer';
import { resolveSchedule, type RetrySchedule } from './schedule';

export interface QueueDispatchDeps {
  readonly db: PrismaClient;
  readonly pool: Pick<pg.Pool, 'query'>;
  readonly producer: JobProducer;
  readonly logger: Logger;
  readonly registry: Registry;
}

export interface QueueDispatchOptions {
  /** RELAY_HOST, as the queue manager has it. */
  readonly relayHost?: string;
  /** The retry schedule (RETRY_*): its expiry applies to what is dispatched. */
  readonly schedule?: Partial<RetrySchedule>;
  /** As the queue manager's option of that name. Default 60 s. */
  readonly pauseRecheckMs?: number;
  readonly clock?: () => Date;
}

export interface DispatchAnswer {
  /** The ids of the jobs on the queue for them now (`accepted/<id>` for a message never routed). */
  readonly enqueued: string[];
  readonly enqueueError?: string;
}

export class QueueDispatch {
  private readonly ctx: DispatchContext;
  private readonly dispatcher: Dispatcher;
  private readonly placer: ReplacingPlacer;

  constructor(deps: QueueDispatchDeps, options: QueueDispatchOptions = {}) {
    this.ctx = {
      ...deps,
      schedule: resolveSchedule(options.schedule),
      relayHost: options.relayHost || undefined,
      now: options.clock ?? (() => new Date()),
      pauseRecheckMs: options.pauseRecheckMs ?? 60_000,
      metrics: new QueueManagerMetrics(deps.registry),
    };
    this.dispatcher = new Dispatcher(this.ctx);
    this.placer = new ReplacingPlacer(this.ctx, true);
  }

  /** How far ahead the dispatcher puts off a paused destination's recipients. */
  get pauseRecheckMs(): number {
    return this.ctx.pauseRecheckMs;
  }

  /** Dispatches these (due) recipients of a message now. */
  async now(messageId: string, recipientIds: readonly string[]): Promise<DispatchAnswer> {
    const { ctx } = this;
    const enqueued: string[] = [];
    try {
      const msg = await ctx.db.message.findUnique({ where: { id: messageId }, select: MESSAGE_REF });
      if (msg?.state === MessageState.received) {
        enqueued.push(await ctx.producer.enqueue(QueueName.Accepted, { messageIds: [messageId] }));
      } else if (msg?.state === MessageState.queued && recipientIds.length > 0) {
        const recipients = await ctx.db.recipient.findMany({
          where: { id: { in: [...recipientIds] }, messageId, status: { in: [...WAITING] } },
          orderBy: { address: 'asc' },
        });
        const result = await this.dispatcher.dispatch(msg, recipients, { placer: this.placer });
        enqueued.push(...result.jobIds);
      }
      return { enqueued };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      ctx.logger.warn({ messageId, err: message }, 'dispatch failed; the reconciler will');
      return { enqueued, enqueueError: message };
    }
  }

  /**
   * Removes the waiting delivery jobs of these recipients from Redis (on hold or delete), so a
   * worker does not even pick them up. A job a worker already holds cannot be removed: the
   * worker re-reads the recipients before it connects and delivers none that is not waiting.
   * Best effort.
   */
  async withdraw(messageId: string, recipients: readonly PlannedRecipient[]): Promise<void> {
    const queue = this.ctx.producer.queue(QueueName.Delivery);
    for (const job of planJobs(messageId, recipients, this.ctx.relayHost)) {
      const jobId = deliveryJobId(job);
      try {
        await queue.remove(jobId);
      } catch (error) {
        this.ctx.logger.debug({ messageId, jobId, err: String(error) }, 'delivery job not removed');
      }
    }
  }
}
