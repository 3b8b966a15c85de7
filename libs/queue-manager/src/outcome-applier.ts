/**
 * The outcome applier: consumes `outcome` (DESIGN.md "A message's life", step 5). What each
 * result means is decided by `decideOutcome` (outcome.ts, a pure function); each applied result
 * writes a `delivery_attempts` row and an event, and a hard bounce may add a suppression; all
 * results of a batch of outcomes go in one statement (@mta/queue-state `recordResults`).
 *
 * Idempotent: a result is applied only if the recipient is still waiting and has had fewer
 * attempts than the outcome's attempt number, and only if its status and attempts are still
 * those read (compare-and-set), so a replayed or late outcome changes nothing.
 *
 * Then: the deferred recipients get ONE delayed `delivery` job for their destination (attempt + 1),
 * a delay notice if they have waited long enough, the delivered ones that asked for NOTIFY=SUCCESS
 * one success notice per message (successNotices), and the failed ones their DSN (settle.ts).
 *
 * Outcomes that arrive while a batch is being applied are applied together in the next one
 * (batches.ts): the statements above run once per batch, not once per outcome.
 */
import { GroupCommit, type Recipient } from '@mta/db';
import type { JobData, QueueName } from '@mta/queue';
import { canSendDsn } from '@mta/mail';
import {
  EXPIRED_REASON,
  MessageState,
  RECIPIENT,
  loadMessages,
  recordResults,
  type AppliedResult,
  type MessageRef,
  type RecordedOutcome,
  type ResultMove,
} from '@mta/queue-state';
import type { DsnWriter, SuccessAction } from './bounces';
import type { Context } from './context';
import type { Dispatcher } from './dispatcher';
import { decideOutcome, moveOf, type Decision } from './outcome';
import { delayWarningDue } from './schedule';
import type { Settler } from './settle';
import { batchOptions } from './batches';

export type OutcomeJobData = JobData<QueueName.Outcome>;
type Result = OutcomeJobData['results'][number];

export interface ApplyResult {
  readonly applied: number;
  readonly delivered: number;
  readonly deferred: number;
  readonly failed: number;
  /** When the deferred recipients are due again (null if none). */
  readonly nextAttemptAt: Date | null;
}

const EMPTY: ApplyResult = { applied: 0, delivered: 0, deferred: 0, failed: 0, nextAttemptAt: null };

/** A result that applies: the recipient as read, the result, and the move decided. */
interface Planned {
  readonly r: Recipient;
  readonly result: Result;
  readonly move: ResultMove;
  readonly row: AppliedResult;
}

/** One outcome of a batch, read against its message. */
interface OutcomePlan {
  readonly outcome: OutcomeJobData;
  readonly msg: MessageRef;
  /** The message's recipients in all: when the commit delivers every one, it is done. */
  readonly recipientTotal: number;
  readonly next: Date | null;
  readonly planned: Planned[];
}

export class OutcomeApplier {
  private readonly batch: GroupCommit<OutcomeJobData, ApplyResult>;

  constructor(
    private readonly ctx: Context,
    private readonly dispatcher: Dispatcher,
    private readonly dsn: DsnWriter,
    private readonly settler: Settler,
  ) {
    this.batch = new GroupCommit((outcomes) => this.applyMany(outcomes), batchOptions(ctx, 'outcome'));
  }

  /** Applies one outcome, together with the others that arrive while a batch is being applied. */
  apply(outcome: OutcomeJobData): Promise<ApplyResult> {
    return this.batch.submit(outcome);
  }

  /**
   * Applies a batch of outcomes: one query reads their messages, one statement records every
   * result and marks done the messages it delivered entirely; the settler looks after the commit
   * at the messages it changed otherwise. The rarer steps (retries, delay notices, DSNs) run per
   * message.
   */
  async applyMany(outcomes: readonly OutcomeJobData[]): Promise<ApplyResult[]> {
    const plans = await this.plan(outcomes);
    const now = this.ctx.now();
    const { updated, finished } = await recordResults(
      this.ctx.pool,
      now,
      plans.flatMap((p) => (p ? recorded(p) : [])),
    );
    const results: ApplyResult[] = [];
    const toSettle = new Map<string, MessageRef>();
    for (const p of plans) {
      if (!p) {
        results.push(EMPTY);
        continue;
      }
      const applied = p.planned.filter((x) => updated.has(x.r.id));
      this.report(p, applied);
      const deferred = applied.filter((a) => a.move === 'defer').map((a) => a.r);
      const failedAtDispatch = await this.retry(p.msg, deferred, p.next, now);
      const failed = applied.filter((a) => RECIPIENT[a.move].to === RECIPIENT.fail.to).length;
      const delivered = applied.filter((a) => a.move === 'deliver').length;
      if (finished.has(p.msg.id)) this.settler.logDone(p.msg);
      else if (failed + delivered + failedAtDispatch > 0 && p.msg.state === MessageState.queued)
        toSettle.set(p.msg.id, p.msg);
      results.push({
        applied: applied.length,
        delivered,
        deferred: deferred.length,
        failed,
        nextAttemptAt: deferred.length ? p.next : null,
      });
    }
    await this.successNotices(plans, updated);
    await this.settler.settleMany([...toSettle.values()]);
    return results;
  }

  /** Reads the batch's messages (and the settings) and decides every result. */
  private async plan(outcomes: readonly OutcomeJobData[]): Promise<(OutcomePlan | null)[]> {
    const { ctx } = this;
    const loaded = await loadMessages(
      ctx.pool,
      [...new Set(outcomes.map((o) => o.messageId))],
      outcomes.flatMap((o) => o.results.map((r) => r.recipientId)),
    );
    const now = ctx.now();
    // A recipient in two outcomes of one batch (a replay next to the original) is applied once.
    const seen = new Set<string>();
    return outcomes.map((outcome) => {
      const message = loaded.messages.get(outcome.messageId);
      if (!message) return null;
      const byId = new Map(message.recipients.filter((r) => !seen.has(r.id)).map((r) => [r.id, r]));
      const { decisions, nextAttemptAt } = decideOutcome({
        attempt: outcome.attempt,
        results: outcome.results,
        recipients: byId,
        schedule: ctx.schedule,
        receivedAt: message.msg.receivedAt,
        now,
        random: ctx.random,
        suppressHardBounces: loaded.suppressHardBounces,
      });
      const planned = outcome.results.flatMap((result, i) => {
        const move = moveOf(decisions[i]);
        const r = byId.get(result.recipientId);
        if (!move || !r) return [];
        seen.add(r.id);
        return [this.planned(outcome, r, result, decisions[i], move, message.msg, nextAttemptAt)];
      });
      return { outcome, msg: message.msg, recipientTotal: message.recipientTotal, next: nextAttemptAt, planned };
    });
  }

  /** One result's row (what recordResults writes) and the recipient as it will be. */
  private planned(
    outcome: OutcomeJobData,
    r: Recipient,
    result: Result,
    decision: Decision,
    move: ResultMove,
    msg: MessageRef,
    next: Date | null,
  ): Planned {
    const nextAttemptAt = 'nextAttemptAt' in decision ? decision.nextAttemptAt : null;
    const status = RECIPIENT[move].to;
    const suppress = decision.move === 'fail' && decision.suppress;
    const expired = move === 'expire';
    return {
      r: { ...r, status, attempts: outcome.attempt, nextAttemptAt: next },
      result,
      move,
      row: {
        recipient: r,
        move,
        nextAttemptAt,
        code: result.code,
        enhanced: result.enhanced ?? null,
        text: result.text,
        suppress: suppress ? { reason: hardBounceReason(result), queueId: msg.queueId } : null,
        eventDetail: {
          replyCode: result.code,
          enhancedCode: result.enhanced ?? null,
          replyText: result.text,
          attempt: outcome.attempt,
          route: outcome.route,
          destination: outcome.destination,
          mxHost: result.remote?.host ?? null,
          ...(expired ? { reason: EXPIRED_REASON } : {}),
          ...(move === 'defer' && nextAttemptAt ? { nextAttemptAt: nextAttemptAt.toISOString() } : {}),
          ...(suppress ? { suppressed: true } : {}),
        },
        remote: {
          host: result.remote?.host ?? null,
          address: result.remote?.address ?? null,
          port: result.remote?.port ?? null,
        },
        tls: result.tls ?? null,
        tlsPolicy: result.tlsPolicy ?? null,
      },
    };
  }

  /**
   * RFC 3461 §4.1 NOTIFY=SUCCESS: ONE DSN per message for the recipients this batch delivered
   * that asked for it. `delivered` for local (final) delivery; for a remote route `relayed` when
   * the next hop did not offer DSN (RFC 3461 §5.2.2), and nothing when it did: NOTIFY went on
   * with the recipient and the next hop answers it. A result that does not say (an older
   * worker) counts as not offered. At most once: a crash between the outcome and this write
   * loses the notice (the delivery itself is recorded).
   */
  private async successNotices(
    plans: readonly (OutcomePlan | null)[],
    updated: ReadonlySet<string>,
  ): Promise<void> {
    const byMessage = new Map<string, Map<string, SuccessAction>>();
    for (const p of plans) {
      if (!p || !canSendDsn(p.msg.sender)) continue;
      for (const x of p.planned) {
        if (x.move !== 'deliver' || !updated.has(x.r.id) || !x.r.dsnNotify.includes('SUCCESS')) continue;
        const action = p.outcome.route === 'local' ? 'delivered' : x.result.nextHopDsn ? null : 'relayed';
        if (!action) continue;
        const actions = byMessage.get(p.msg.id) ?? new Map<string, SuccessAction>();
        byMessage.set(p.msg.id, actions.set(x.r.id, action));
      }
    }
    for (const [messageId, actions] of byMessage) await this.dsn.writeSuccess(messageId, actions);
  }

  /** One log line and one count per applied result. */
  private report({ msg, outcome, next }: OutcomePlan, applied: readonly Planned[]): void {
    const { ctx } = this;
    const log = ctx.logger.child({ queueId: msg.queueId });
    for (const { r, result, move, row } of applied) {
      const expired = move === 'expire';
      log.info(
        {
          recipient: r.address,
          status: r.status,
          attempt: outcome.attempt,
          destination: outcome.destination,
          reply: `${result.code}${result.enhanced ? ' ' + result.enhanced : ''} ${result.text}`,
          ...(expired ? { reason: EXPIRED_REASON } : {}),
          ...(move === 'defer' && next ? { nextAttemptAt: next.toISOString() } : {}),
          ...(row.suppress ? { suppressed: row.suppress.reason } : {}),
        },
        expired ? 'recipient expired' : `recipient ${r.status}`,
      );
      ctx.metrics.count(expired ? 'expired' : result.kind === 'deferred' ? 'deferred' : result.kind);
    }
  }

  /**
   * The deferred recipients of one outcome: ONE delayed job for their destination, and a delay
   * notice if they have waited long enough. Returns how many failed here without an attempt
   * (the deadline passed while this outcome was applied, or the address was suppressed since).
   */
  private async retry(msg: MessageRef, deferred: readonly Recipient[], next: Date | null, now: Date) {
    if (deferred.length === 0) return 0;
    const { ctx } = this;
    let failedAtDispatch = 0;
    if (msg.state === MessageState.queued && next) {
      const { jobs, failed } = await this.dispatcher.dispatch(msg, deferred, { notBefore: next });
      failedAtDispatch = failed;
      const log = ctx.logger.child({ queueId: msg.queueId });
      for (const job of jobs) {
        const { destination, attempt } = job;
        const notBefore = next.toISOString();
        log.info({ destination, attempt, recipients: job.recipientIds.length, notBefore }, 'retry scheduled');
      }
    }
    if (delayWarningDue(ctx.schedule, msg.receivedAt, now)) {
      await this.dsn.writeDelayNotice(
        msg.id,
        deferred.filter((r) => r.delayNotifiedAt === null).map((r) => r.id),
      );
    }
    return failedAtDispatch;
  }
}

/** The part of the batch's commit that one outcome contributes. */
function recorded(p: OutcomePlan): RecordedOutcome[] {
  if (p.planned.length === 0) return [];
  return [
    {
      messageId: p.msg.id,
      queueId: p.msg.queueId,
      attempt: p.outcome.attempt,
      recipientTotal: p.recipientTotal,
      results: p.planned.map((x) => x.row),
    },
  ];
}

/** A suppression's reason after a hard bounce: the remote reply, as the DSN quotes it. */
export function hardBounceReason(result: Pick<Result, 'code' | 'enhanced' | 'text'>): string {
  const reply = [result.code, result.enhanced, result.text]
    .filter((x) => x !== undefined && x !== '')
    .join(' ');
  return `hard bounce: ${reply}`.slice(0, 500);
}
