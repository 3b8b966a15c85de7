/**
 * The reconciler: PostgreSQL is the truth, Redis the fast path (DESIGN.md). Periodically (and at
 * start) it compares the two and puts back what Redis lost:
 *
 * 1. Messages in state `received` older than `receivedGraceMs` that no pending `accepted` job can
 *    hold (received more than `receivedGraceMs` before the oldest pending job was created:
 *    accepted-backlog.ts) and whose own replay (`accepted/<id>`) is not waiting or running →
 *    `accepted/<id>` enqueued (a finished replay is replaced: the message was not routed).
 * 2. Recipients `queued`/`deferred` of `queued` messages whose `next_attempt_at` has passed and which
 *    no pending `delivery` job (waiting, delayed, active) names → handed to the dispatcher with the
 *    `ReplacingPlacer` (replacing-placer.ts): the same deterministic job id, a finished job of the
 *    step replaced only while PostgreSQL still says its recipients are due, so a replay never
 *    delivers twice what PostgreSQL says was delivered (those recipients are not due).
 * 3. Messages with failed recipients whose DSN is not written yet, or with every recipient final
 *    but not marked `done` (a crash between two steps) → settled.
 * 4. The `mta_queue_recipients{status}` gauge.
 *
 * Several queue replicas: each run takes a Redis lock (`SET NX PX`, released by token) so one
 * replica reconciles at a time; correctness does not depend on it (ids are idempotent and DSNs are
 * guarded in PostgreSQL), it only avoids doing the same work twice. If the lock holder dies the
 * lock expires after `2 × interval` (at least a minute).
 */
import { randomBytes } from 'node:crypto';
import type { Recipient as DueRecipient } from '@mta/db';
import { QueueName, jobIdOf } from '@mta/queue';
import {
  MESSAGE_REF,
  MessageState,
  OPEN,
  RECIPIENT_STATUSES,
  RecipientStatus,
  UNFINISHED_MESSAGES,
  WAITING,
} from '@mta/queue-state';
import type { Context } from './context';
import type { Dispatcher } from './dispatcher';
import { ReplacingPlacer } from './replacing-placer';
import type { Settler } from './settle';
import { pendingSince } from './accepted-backlog';

/** The job types (BullMQ's lists) of jobs that have not run to their end yet. */
const PENDING_TYPES = ['wait', 'delayed', 'active', 'prioritized', 'waiting-children'] as const;
/** The same as states (`Job.getState()`), which says `waiting`, and `paused` in older BullMQs. */
const PENDING_STATES: readonly string[] = [...PENDING_TYPES, 'waiting', 'paused'];

export interface ReconcileReport {
  readonly accepted: number;
  readonly deliveries: number;
  readonly settled: number;
}

/** Pages of due recipients one run looks through for some no job names (see requeueDue). */
const DUE_PAGES = 10;

const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

export class Reconciler {
  private readonly placer: ReplacingPlacer;

  constructor(
    private readonly ctx: Context,
    private readonly dispatcher: Dispatcher,
    private readonly settler: Settler,
  ) {
    this.placer = new ReplacingPlacer(ctx);
  }

  private get lockKey(): string {
    return `${this.ctx.prefix}:queue-manager:reconciler-lock`;
  }

  /** One run; null when another replica holds the lock. */
  async run(): Promise<ReconcileReport | null> {
    const { ctx } = this;
    const token = randomBytes(12).toString('hex');
    const ttl = Math.max(60_000, 2 * ctx.reconcileIntervalMs);
    const got = await ctx.redis.set(this.lockKey, token, 'PX', ttl, 'NX');
    if (got !== 'OK') {
      ctx.metrics.reconcileRuns.inc({ result: 'skipped' });
      return null;
    }
    try {
      const accepted = await this.requeueReceived();
      const deliveries = await this.requeueDue();
      const settled = await this.settleOpen();
      await this.updateGauges();
      ctx.metrics.reconcileRuns.inc({ result: 'done' });
      if (accepted + deliveries > 0)
        ctx.logger.info({ accepted, deliveries, settled }, 'reconciler re-enqueued jobs');
      return { accepted, deliveries, settled };
    } catch (error) {
      ctx.metrics.reconcileRuns.inc({ result: 'error' });
      throw error;
    } finally {
      await ctx.redis.eval(RELEASE, 1, this.lockKey, token).catch(() => undefined);
    }
  }

  /**
   * Pages on past the messages a pending job holds (a previous run's replays, still waiting), so
   * that a run puts back up to a batch of messages no job holds and back-to-back runs catch up.
   * Ordered by reception: past `lostBefore` every message may still be in a pending job.
   */
  private async requeueReceived(): Promise<number> {
    const { ctx } = this;
    const queue = ctx.producer.queue(QueueName.Accepted);
    const batch = ctx.reconcileBatch;
    let lostBefore: number | undefined;
    let after: { receivedAt: Date; id: string } | undefined;
    let n = 0;
    while (n < batch) {
      // Keyset paging: messages routed while this run pages must not shift the next page past one.
      const unrouted = await ctx.db.message.findMany({
        where: {
          state: MessageState.received,
          receivedAt: { lte: new Date(ctx.now().getTime() - ctx.receivedGraceMs) },
          ...(after
            ? {
                OR: [
                  { receivedAt: { gt: after.receivedAt } },
                  { receivedAt: after.receivedAt, id: { gt: after.id } },
                ],
              }
            : {}),
        },
        select: { id: true, queueId: true, receivedAt: true },
        orderBy: [{ receivedAt: 'asc' }, { id: 'asc' }],
        take: batch,
      });
      if (unrouted.length === 0) break;
      after = unrouted[unrouted.length - 1];
      // A message received after this may still be in a pending job (several messages per job).
      lostBefore ??= (await pendingSince(queue)) - ctx.receivedGraceMs;
      if (lostBefore === -Infinity) {
        ctx.logger.warn(
          { queue: QueueName.Accepted },
          'reconciler: too many delayed or prioritized accepted jobs to tell which messages lost theirs; checked next run',
        );
        break;
      }
      const limit = lostBefore;
      const lost = unrouted.filter((u) => u.receivedAt.getTime() <= limit);
      n += await this.replayAccepted(lost.slice(0, batch - n));
      if (lost.length < unrouted.length || unrouted.length < batch) break;
    }
    ctx.metrics.requeued.inc({ queue: QueueName.Accepted }, n);
    return n;
  }

  /** `accepted/<id>` for each message whose own replay is not pending; how many were enqueued. */
  private async replayAccepted(messages: readonly { id: string; queueId: string }[]): Promise<number> {
    const { ctx } = this;
    const queue = ctx.producer.queue(QueueName.Accepted);
    let n = 0;
    for (const m of messages) {
      const replay = { messageIds: [m.id] };
      const job = await queue.getJob(jobIdOf[QueueName.Accepted](replay) ?? '');
      if (job) {
        if (PENDING_STATES.includes(await job.getState())) continue;
        await job.remove(); // finished but the message is still unrouted: run it again
      }
      await ctx.producer.enqueue(QueueName.Accepted, replay);
      ctx.logger
        .child({ queueId: m.queueId })
        .info({ queue: QueueName.Accepted }, 'reconciler: accepted job enqueued again');
      n++;
    }
    return n;
  }

  /**
   * Due recipients no pending delivery job names, a page at a time (5 × the batch), past the
   * pages whose recipients all have their job (a previous run's), at most `DUE_PAGES` pages.
   */
  private async requeueDue(): Promise<number> {
    const { ctx } = this;
    const size = ctx.reconcileBatch * 5;
    let covered: Set<string> | undefined;
    let n = 0;
    let after: { nextAttemptAt: Date | null; id: string } | undefined;
    for (let page = 0; page < DUE_PAGES && n === 0; page++) {
      // Keyset paging, as in requeueReceived: a recipient delivered meanwhile shifts no page.
      const due = await ctx.db.recipient.findMany({
        where: {
          status: { in: [...WAITING] },
          nextAttemptAt: { lte: ctx.now() },
          message: { state: MessageState.queued },
          ...(after?.nextAttemptAt
            ? {
                OR: [
                  { nextAttemptAt: { gt: after.nextAttemptAt } },
                  { nextAttemptAt: after.nextAttemptAt, id: { gt: after.id } },
                ],
              }
            : {}),
        },
        orderBy: [{ nextAttemptAt: 'asc' }, { id: 'asc' }],
        take: size,
      });
      if (due.length === 0) break;
      after = due[due.length - 1];
      covered ??= await this.coveredRecipients();
      const known = covered;
      n += await this.dispatchDue(due.filter((r) => !known.has(r.id)));
      if (due.length < size) break;
    }
    ctx.metrics.requeued.inc({ queue: QueueName.Delivery }, n);
    return n;
  }

  private async dispatchDue(due: readonly DueRecipient[]): Promise<number> {
    const { ctx } = this;
    const byMessage = new Map<string, DueRecipient[]>();
    for (const r of due) byMessage.set(r.messageId, [...(byMessage.get(r.messageId) ?? []), r]);
    let n = 0;
    for (const [messageId, recipients] of byMessage) {
      const msg = await ctx.db.message.findUnique({ where: { id: messageId }, select: MESSAGE_REF });
      if (!msg || msg.state !== MessageState.queued) continue;
      const result = await this.dispatcher.dispatch(msg, recipients, { placer: this.placer });
      const log = ctx.logger.child({ queueId: msg.queueId });
      for (const job of result.jobs) {
        log.info(
          {
            queue: QueueName.Delivery,
            destination: job.destination,
            attempt: job.attempt,
            recipients: job.recipientIds.length,
          },
          'reconciler: delivery job enqueued again',
        );
      }
      n += result.jobs.length;
      if (result.failed > 0) await this.settler.settle(msg);
    }
    return n;
  }

  /** Recipient ids named by a delivery job that is waiting, delayed or running. */
  private async coveredRecipients(): Promise<Set<string>> {
    const queue = this.ctx.producer.queue(QueueName.Delivery);
    const covered = new Set<string>();
    const pageSize = 1000;
    for (let start = 0; ; start += pageSize) {
      const jobs = await queue.getJobs([...PENDING_TYPES], start, start + pageSize - 1);
      for (const job of jobs)
        for (const id of (job?.data?.recipientIds as string[] | undefined) ?? []) covered.add(id);
      if (jobs.length < pageSize) break;
    }
    return covered;
  }

  private async settleOpen(): Promise<number> {
    const { ctx } = this;
    const messages = await ctx.db.message.findMany({
      where: {
        state: MessageState.queued,
        OR: [
          { recipients: { some: { status: RecipientStatus.failed } } },
          { recipients: { none: { status: { in: [...OPEN, RecipientStatus.failed] } } } },
        ],
      },
      select: MESSAGE_REF,
      take: ctx.reconcileBatch,
    });
    let n = 0;
    for (const msg of messages) if (await this.settler.settle(msg)) n++;
    return n;
  }

  private async updateGauges(): Promise<void> {
    const rows = await this.ctx.db.recipient.groupBy({
      by: ['status'],
      where: { message: { state: { in: [...UNFINISHED_MESSAGES] } } },
      _count: { _all: true },
    });
    const gauge = this.ctx.metrics.recipients;
    for (const status of RECIPIENT_STATUSES) {
      gauge.set({ status }, rows.find((r) => r.status === status)?._count._all ?? 0);
    }
  }
}
