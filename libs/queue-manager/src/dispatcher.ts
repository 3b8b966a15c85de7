/**
 * From waiting recipients to `delivery` jobs: the one place that decides what may be sent now.
 * Used by the router (first attempt), the outcome applier (retries), the reconciler and, through
 * `QueueDispatch`, the admin API's retry, release and resume.
 *
 * 1. Expired messages: the recipients fail with 4.4.7 (move `expire`, schedule.ts).
 * 2. Suppressed addresses (`suppressions`, not expired): fail at once with 550 5.7.1 (move `suppress`).
 * 3. Paused destinations (`domain_pauses`, by recipient domain): no job; `next_attempt_at` moves to
 *    the end of the pause or `pauseRecheckMs` from now, whichever is first, and the reconciler looks
 *    again then.
 * 4. The rest: the jobs `planJobs` of @mta/queue-state plans (one per route and destination, with a
 *    deterministic id), handed to a `JobPlacer`: by default enqueued, so enqueueing the same step
 *    twice is a no-op in BullMQ; the reconciler and the admin API bring their own placer.
 */
import type { Recipient } from '@mta/db';
import { QueueName } from '@mta/queue';
import {
  blockKeys,
  isWaiting,
  loadBlocks,
  planJobs,
  type Blocks,
  type DeliveryJobData,
  type MessageRef,
} from '@mta/queue-state';
import type { Context } from './context';
import { expire, postpone, suppress } from './fail';
import { expiresAt } from './schedule';

export type { DeliveryJobData };

/** What the dispatcher needs of the queue manager's context (the admin API builds one too). */
export type DispatchContext = Pick<
  Context,
  'db' | 'pool' | 'producer' | 'logger' | 'metrics' | 'schedule' | 'relayHost' | 'now' | 'pauseRecheckMs'
>;

/** How a planned job goes to Redis. */
export interface JobPlacer {
  /** Puts `job` on the queue to run after `delay` ms; its id if it is there now, else null. */
  place(job: DeliveryJobData, delay: number): Promise<string | null>;
}

export interface DispatchOptions {
  /** Send not before this moment (a retry); default now. */
  readonly notBefore?: Date;
  /** Blocks already read for these recipients (the router reads them with its commit). */
  readonly blocks?: Blocks;
  /** Default: enqueue (BullMQ keeps the job it has under the same id). */
  readonly placer?: JobPlacer;
}

export interface DispatchResult {
  /** The jobs placed (or, from `prepare`, to place). */
  readonly jobs: DeliveryJobData[];
  /** Their ids (from `dispatch`). */
  readonly jobIds: string[];
  /** Recipients that failed here (expired or suppressed): a DSN may be due. */
  readonly failed: number;
  readonly paused: number;
}

export class Dispatcher {
  private readonly enqueuer: JobPlacer;

  constructor(private readonly ctx: DispatchContext) {
    this.enqueuer = {
      place: (job, delay) => ctx.producer.enqueue(QueueName.Delivery, job, delay > 0 ? { delay } : {}),
    };
  }

  async dispatch(
    msg: MessageRef,
    recipients: readonly Recipient[],
    options: DispatchOptions = {},
  ): Promise<DispatchResult> {
    const now = this.ctx.now();
    const prepared = await this.prepare(msg, recipients, options);
    const delay = Math.max(0, (options.notBefore?.getTime() ?? now.getTime()) - now.getTime());
    const placer = options.placer ?? this.enqueuer;
    const jobs: DeliveryJobData[] = [];
    const jobIds: string[] = [];
    for (const job of prepared.jobs) {
      const id = await placer.place(job, delay);
      if (id === null) continue;
      jobs.push(job);
      jobIds.push(id);
    }
    return { ...prepared, jobs, jobIds };
  }

  /**
   * Steps 1-3 for one message, and the jobs of step 4 without placing them: for a caller that
   * enqueues the jobs of many messages at once (the router, with `enqueueMany`).
   */
  async prepare(
    msg: MessageRef,
    recipients: readonly Recipient[],
    options: Pick<DispatchOptions, 'notBefore' | 'blocks'> = {},
  ): Promise<DispatchResult> {
    const { ctx } = this;
    const now = ctx.now();
    const waiting = recipients.filter((r) => isWaiting(r.status));
    const none = { jobs: [], jobIds: [], failed: 0, paused: 0 };
    if (waiting.length === 0) return none;
    if (now >= expiresAt(ctx.schedule, msg.receivedAt))
      return { ...none, failed: await expire(ctx, msg, waiting) };

    const blocks = options.blocks ?? (await loadBlocks(ctx.pool, { ...blockKeys(waiting), now }));
    const reasons = new Map<string, string>();
    for (const r of waiting) {
      const reason = blocks.suppressions.get(r.address.toLowerCase());
      if (reason !== undefined) reasons.set(r.id, reason);
    }
    const suppressed = waiting.filter((r) => reasons.has(r.id));
    const failed = await suppress(ctx, msg, suppressed, reasons);
    const paused = waiting.filter((r) => !reasons.has(r.id) && blocks.pauses.has(r.domain));
    await postpone(ctx, msg, paused, blocks.pauses, options.notBefore ?? now);
    const sendable = waiting.filter((r) => !reasons.has(r.id) && !blocks.pauses.has(r.domain));
    return { ...none, jobs: planJobs(msg.id, sendable, ctx.relayHost), failed, paused: paused.length };
  }
}
