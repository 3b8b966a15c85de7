/**
 * The outcome applier: consumes `outcome` (DESIGN.md "A message's life", step 5). Per recipient
 * (RFC 5321 §4.2.1 reply classes): 2xx → `delivered`; 4xx or no answer → `deferred`, retried per
 * the schedule (schedule.ts), or `failed` with 4.4.7 once the message has expired; 5xx → `failed`.
 * Each applied result writes a `delivery_attempts` row and an event; all results of an outcome
 * go in one statement (message-store.ts).
 *
 * Idempotent: a result is applied only if the recipient is still waiting and has had fewer
 * attempts than the outcome's attempt number (a conditional update per recipient), so a replayed
 * or late outcome changes nothing.
 *
 * Then: the deferred recipients get ONE delayed `delivery` job for their destination (attempt + 1),
 * a delay notice if they have waited long enough, the delivered ones that asked for NOTIFY=SUCCESS
 * one success notice per message (successNotices), and the failed ones their DSN (settle.ts).
 *
 * Outcomes that arrive while a batch is being applied are applied together in the next one
 * (batches.ts): the statements above run once per batch, not once per outcome.
 */
import { GroupCommit, type Recipient, type RecipientStatus } from '@mta/db';
import type { JobData, QueueName } from '@mta/queue';
import { canSendDsn } from '@mta/mail';
import type { DsnWriter, SuccessAction } from './bounces';
import type { Context } from './context';
import type { Dispatcher } from './dispatcher';
import { EXPIRED_REASON } from './fail';
import { delayWarningDue, nextAttempt } from './schedule';
import type { Settler } from './settle';
import { batchOptions } from './batches';
import { loadMessages, recordResults, type AppliedResult } from './message-store';
import type { MessageRef } from './types';

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

/** An outcome's results as read against its recipients: what to record, and what it means. */
interface Planned {
  readonly r: Recipient;
  readonly result: Result;
  readonly status: RecipientStatus;
  readonly expired: boolean;
  readonly row: AppliedResult;
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
   * result, one statement marks done the messages whose recipients are all delivered. The rarer
   * steps (retries, delay notices, DSNs) run per message.
   */
  async applyMany(outcomes: readonly OutcomeJobData[]): Promise<ApplyResult[]> {
    const { ctx } = this;
    const loaded = await loadMessages(
      ctx.pool,
      [...new Set(outcomes.map((o) => o.messageId))],
      outcomes.flatMap((o) => o.results.map((r) => r.recipientId)),
    );
    const now = ctx.now();
    // A recipient in two outcomes of one batch (a replay next to the original) is applied once.
    const seen = new Set<string>();
    const plans = outcomes.map((outcome) => {
      const message = loaded.get(outcome.messageId);
      if (!message) return null;
      const next = nextAttempt(ctx.schedule, message.msg.receivedAt, outcome.attempt, now, ctx.random);
      const planned = this.plan(outcome, message.recipients, next, seen);
      return { outcome, msg: message.msg, next, planned };
    });
    const updated = await recordResults(
      ctx.pool,
      now,
      plans.flatMap((p) =>
        p && p.planned.length > 0
          ? [
              {
                messageId: p.msg.id,
                queueId: p.msg.queueId,
                attempt: p.outcome.attempt,
                results: p.planned.map((x) => x.row),
              },
            ]
          : [],
      ),
    );

    const results: ApplyResult[] = [];
    const toSettle = new Map<string, MessageRef>();
    for (const p of plans) {
      if (!p) {
        results.push(EMPTY);
        continue;
      }
      const { outcome, msg, next } = p;
      const applied = p.planned.filter((x) => updated.has(x.r.id));
      this.report(msg, outcome, next, applied);
      const deferred = applied.filter((a) => a.status === 'deferred').map((a) => a.r);
      const failedAtDispatch = await this.retry(msg, deferred, next, now);
      const failed = applied.filter((a) => a.status === 'failed').length;
      const delivered = applied.filter((a) => a.status === 'delivered').length;
      if (failed + delivered + failedAtDispatch > 0 && msg.state === 'queued') toSettle.set(msg.id, msg);
      results.push({
        applied: applied.length,
        delivered,
        deferred: deferred.length,
        failed,
        nextAttemptAt: deferred.length ? next : null,
      });
    }
    await this.successNotices(plans, updated);
    await this.settler.settleMany([...toSettle.values()]);
    return results;
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
    plans: readonly ({ outcome: OutcomeJobData; msg: MessageRef; planned: Planned[] } | null)[],
    updated: ReadonlySet<string>,
  ): Promise<void> {
    const byMessage = new Map<string, Map<string, SuccessAction>>();
    for (const p of plans) {
      if (!p || !canSendDsn(p.msg.sender)) continue;
      for (const x of p.planned) {
        if (x.status !== 'delivered' || !updated.has(x.r.id) || !x.r.dsnNotify.includes('SUCCESS')) continue;
        const action = p.outcome.route === 'local' ? 'delivered' : x.result.nextHopDsn ? null : 'relayed';
        if (!action) continue;
        const actions = byMessage.get(p.msg.id) ?? new Map<string, SuccessAction>();
        byMessage.set(p.msg.id, actions.set(x.r.id, action));
      }
    }
    for (const [messageId, actions] of byMessage) await this.dsn.writeSuccess(messageId, actions);
  }

  /** The results of one outcome that still apply (the recipient waits for this attempt). */
  private plan(
    outcome: OutcomeJobData,
    recipients: readonly Recipient[],
    next: Date | null,
    seen: Set<string>,
  ): Planned[] {
    const byId = new Map(recipients.map((r) => [r.id, r]));
    const planned: Planned[] = [];
    for (const result of outcome.results) {
      const r = byId.get(result.recipientId);
      if (!r || !['queued', 'deferred', 'held'].includes(r.status) || r.attempts >= outcome.attempt) continue;
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      const expired = result.kind === 'deferred' && next === null;
      const status: RecipientStatus =
        result.kind === 'delivered'
          ? 'delivered'
          : result.kind === 'failed' || expired
            ? 'failed'
            : r.status === 'held'
              ? 'held'
              : 'deferred';
      const nextAttemptAt = status === 'deferred' || status === 'held' ? next : null;
      planned.push({
        r: { ...r, status, attempts: outcome.attempt, nextAttemptAt: next },
        result,
        status,
        expired,
        row: {
          recipient: r,
          status,
          nextAttemptAt,
          code: result.code,
          enhanced: result.enhanced ?? null,
          text: result.text,
          eventType: expired ? 'expired' : result.kind,
          eventDetail: {
            replyCode: result.code,
            enhancedCode: result.enhanced ?? null,
            replyText: result.text,
            attempt: outcome.attempt,
            route: outcome.route,
            destination: outcome.destination,
            mxHost: result.remote?.host ?? null,
            ...(expired ? { reason: EXPIRED_REASON } : {}),
            ...(status === 'deferred' && next ? { nextAttemptAt: next.toISOString() } : {}),
          },
          remote: {
            host: result.remote?.host ?? null,
            address: result.remote?.address ?? null,
            port: result.remote?.port ?? null,
          },
          tls: result.tls ?? null,
          tlsPolicy: result.tlsPolicy ?? null,
        },
      });
    }
    return planned;
  }

  /** One log line and one count per applied result. */
  private report(
    msg: MessageRef,
    outcome: OutcomeJobData,
    next: Date | null,
    applied: readonly Planned[],
  ): void {
    const { ctx } = this;
    const log = ctx.logger.child({ queueId: msg.queueId });
    for (const { r, result, status, expired } of applied) {
      log.info(
        {
          recipient: r.address,
          status,
          attempt: outcome.attempt,
          destination: outcome.destination,
          reply: `${result.code}${result.enhanced ? ' ' + result.enhanced : ''} ${result.text}`,
          ...(expired ? { reason: EXPIRED_REASON } : {}),
          ...(status === 'deferred' && next ? { nextAttemptAt: next.toISOString() } : {}),
        },
        expired ? 'recipient expired' : `recipient ${status}`,
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
    if (msg.state === 'queued' && next) {
      const { jobs, failed } = await this.dispatcher.dispatch(msg, deferred, { notBefore: next });
      failedAtDispatch = failed;
      const log = ctx.logger.child({ queueId: msg.queueId });
      for (const job of jobs) {
        log.info(
          {
            destination: job.destination,
            attempt: job.attempt,
            recipients: job.recipientIds.length,
            notBefore: next.toISOString(),
          },
          'retry scheduled',
        );
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
