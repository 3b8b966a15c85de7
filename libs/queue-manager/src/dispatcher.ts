/**
 * From waiting recipients to `delivery` jobs: the one place that decides what may be sent now.
 * Used by the router (first attempt), the outcome applier (retries) and the reconciler.
 *
 * 1. Expired messages: the recipients fail with 4.4.7 (schedule.ts).
 * 2. Suppressed addresses (`suppressions`, not expired): fail at once with 550 5.7.1.
 * 3. Paused destinations (`domain_pauses`, by recipient domain): no job; `next_attempt_at` moves to
 *    the end of the pause or `pauseRecheckMs` from now, whichever is first, and the reconciler looks
 *    again then.
 * 4. The rest: one job per (route, destination), with a deterministic id (`jobIdOf`), so enqueueing
 *    the same step twice is a no-op in BullMQ.
 */
import type { Recipient, RecipientRoute } from '@mta/db';
import { QueueName, jobIdOf, type JobData } from '@mta/queue';
import type { Context } from './context';
import { expireRecipients, suppressRecipients } from './fail';
import { blockKeys, loadBlocks, type Blocks } from './message-store';
import { expiresAt } from './schedule';
import { WAITING_STATUSES, type MessageRef } from './types';

export type DeliveryJobData = JobData<QueueName.Delivery>;

export interface DispatchOptions {
  /** Send not before this moment (a retry); default now. */
  readonly notBefore?: Date;
  /**
   * Reconciler mode: if the job id is taken by a finished (completed/failed) job whose outcome is
   * not pending, the recipients are still due in PostgreSQL, so the old job is removed and the
   * step enqueued again. If its outcome job failed, that outcome is retried instead.
   */
  readonly replaceFinished?: boolean;
  /** Blocks already read for these recipients (the router reads them with its commit). */
  readonly blocks?: Blocks;
}

export interface DispatchResult {
  readonly jobs: DeliveryJobData[];
  /** Recipients that failed here (expired or suppressed): a DSN may be due. */
  readonly failed: number;
  readonly paused: number;
}

/** The destination of a recipient's delivery job. */
export function destinationOf(route: RecipientRoute, domain: string, relayHost?: string): string {
  if (route === 'local') return 'local';
  if (route === 'remote' && relayHost) return `relay:${relayHost}`;
  return domain;
}

/** Groups recipients by (route, destination); each group's attempt is one more than its most tried member's. */
export function planJobs(
  messageId: string,
  recipients: readonly Recipient[],
  relayHost?: string,
): DeliveryJobData[] {
  const groups = new Map<string, { route: RecipientRoute; destination: string; members: Recipient[] }>();
  for (const r of recipients) {
    const route = r.route ?? 'remote';
    const destination = destinationOf(route, r.domain, relayHost);
    const key = `${route}\n${destination}`;
    const group = groups.get(key) ?? { route, destination, members: [] };
    group.members.push(r);
    groups.set(key, group);
  }
  const jobs: DeliveryJobData[] = [];
  for (const { route, destination, members } of groups.values()) {
    for (let i = 0; i < members.length; i += 1000) {
      const slice = members.slice(i, i + 1000);
      jobs.push({
        messageId,
        route,
        destination,
        recipientIds: slice.map((r) => r.id),
        attempt: Math.max(...slice.map((r) => r.attempts)) + 1,
      });
    }
  }
  return jobs;
}

export class Dispatcher {
  constructor(private readonly ctx: Context) {}

  async dispatch(
    msg: MessageRef,
    recipients: readonly Recipient[],
    options: DispatchOptions = {},
  ): Promise<DispatchResult> {
    const { ctx } = this;
    const now = ctx.now();
    const prepared = await this.prepare(msg, recipients, options);
    const delay = Math.max(0, (options.notBefore?.getTime() ?? now.getTime()) - now.getTime());
    const enqueued: DeliveryJobData[] = [];
    for (const job of prepared.jobs) {
      if (await this.enqueue(job, delay, options.replaceFinished ?? false)) enqueued.push(job);
    }
    return { ...prepared, jobs: enqueued };
  }

  /**
   * Steps 1-3 for one message, and the jobs of step 4 without enqueueing them: for a caller
   * that enqueues the jobs of many messages at once (the router, with `enqueueMany`).
   */
  async prepare(
    msg: MessageRef,
    recipients: readonly Recipient[],
    options: Pick<DispatchOptions, 'notBefore' | 'blocks'> = {},
  ): Promise<DispatchResult> {
    const { ctx } = this;
    const now = ctx.now();
    let pending = recipients.filter((r) => (WAITING_STATUSES as readonly string[]).includes(r.status));
    if (pending.length === 0) return { jobs: [], failed: 0, paused: 0 };

    if (now >= expiresAt(ctx.schedule, msg.receivedAt)) {
      return { jobs: [], failed: await expireRecipients(ctx, msg, pending), paused: 0 };
    }

    const blocks = options.blocks ?? (await this.blocksOf(pending, now));
    const suppressed = new Map<string, string>();
    for (const r of pending) {
      const reason = blocks.suppressions.get(r.address.toLowerCase());
      if (reason !== undefined) suppressed.set(r.id, reason);
    }
    let failed = 0;
    if (suppressed.size > 0) {
      failed = await suppressRecipients(
        ctx,
        msg,
        pending.filter((r) => suppressed.has(r.id)),
        suppressed,
      );
      pending = pending.filter((r) => !suppressed.has(r.id));
    }

    const pauses = blocks.pauses;
    let paused = 0;
    if (pending.some((r) => pauses.has(r.domain))) {
      const held = pending.filter((r) => pauses.has(r.domain));
      pending = pending.filter((r) => !pauses.has(r.domain));
      paused = await this.postpone(msg, held, pauses, options.notBefore ?? now);
    }
    return { jobs: planJobs(msg.id, pending, ctx.relayHost), failed, paused };
  }

  private blocksOf(recipients: readonly Recipient[], now: Date): Promise<Blocks> {
    const { addresses, domains } = blockKeys(recipients);
    return loadBlocks(this.ctx.pool, addresses, domains, now);
  }

  private async postpone(
    msg: MessageRef,
    recipients: readonly Recipient[],
    pauses: ReadonlyMap<string, Date | null>,
    base: Date,
  ): Promise<number> {
    const { ctx } = this;
    const expiry = expiresAt(ctx.schedule, msg.receivedAt).getTime();
    const log = ctx.logger.child({ queueId: msg.queueId });
    for (const r of recipients) {
      const until = pauses.get(r.domain)?.getTime() ?? Infinity;
      const next = new Date(
        Math.min(Math.max(until, base.getTime()), base.getTime() + ctx.pauseRecheckMs, expiry),
      );
      await ctx.db.recipient.updateMany({
        where: { id: r.id, status: { in: [...WAITING_STATUSES] } },
        data: { nextAttemptAt: next },
      });
      log.info(
        { recipient: r.address, destination: r.domain, nextAttemptAt: next.toISOString() },
        'destination paused, recipient postponed',
      );
    }
    ctx.metrics.count('paused', recipients.length);
    return recipients.length;
  }

  /** Enqueues one delivery job; false when it was not (already there, or an outcome is pending). */
  private async enqueue(job: DeliveryJobData, delay: number, replaceFinished: boolean): Promise<boolean> {
    const { producer } = this.ctx;
    if (replaceFinished) {
      const existing = await producer
        .queue(QueueName.Delivery)
        .getJob(jobIdOf[QueueName.Delivery](job) ?? '');
      if (existing) {
        const state = await existing.getState();
        // 'unknown': the job's data survived in Redis but it is in no list (partial data loss),
        // so nothing will ever run it; it is replaced like a finished one.
        if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return false;
        const outcomeId = jobIdOf[QueueName.Outcome]({
          ...job,
          results: [],
        } as unknown as JobData<QueueName.Outcome>);
        const outcome = await producer.queue(QueueName.Outcome).getJob(outcomeId ?? '');
        const outcomeState = outcome ? await outcome.getState() : undefined;
        if (outcome && outcomeState !== 'completed' && outcomeState !== 'failed') return false;
        if (outcome && outcomeState === 'failed') {
          // The delivery happened; only applying its results failed: apply them again rather
          // than deliver again.
          await outcome.retry('failed');
          return false;
        }
        // Still due in PostgreSQL (checked again, the outcome may just have been applied)?
        const due = await this.ctx.db.recipient.count({
          where: {
            id: { in: job.recipientIds },
            status: { in: [...WAITING_STATUSES] },
            attempts: { lt: job.attempt },
          },
        });
        if (due !== job.recipientIds.length) return false;
        // The step runs again, so its outcome will come again: the finished outcome job would
        // swallow it (same id).
        if (outcome) await outcome.remove();
        await existing.remove();
      }
    }
    await producer.enqueue(QueueName.Delivery, job, delay > 0 ? { delay } : {});
    return true;
  }
}
