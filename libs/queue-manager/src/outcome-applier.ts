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
 * a delay notice if they have waited long enough, and the failed ones their DSN (settle.ts).
 */
import type { Recipient, RecipientStatus } from '@mta/db';
import type { JobData, QueueName } from '@mta/queue';
import type { DsnWriter } from './bounces';
import type { Context } from './context';
import type { Dispatcher } from './dispatcher';
import { EXPIRED_REASON } from './fail';
import { delayWarningDue, nextAttempt } from './schedule';
import type { Settler } from './settle';
import { loadMessage, recordResults, type AppliedResult } from './message-store';

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

export class OutcomeApplier {
  constructor(
    private readonly ctx: Context,
    private readonly dispatcher: Dispatcher,
    private readonly dsn: DsnWriter,
    private readonly settler: Settler,
  ) {}

  async apply(outcome: OutcomeJobData): Promise<ApplyResult> {
    const { ctx } = this;
    const loaded = await loadMessage(
      ctx.pool,
      outcome.messageId,
      outcome.results.map((r) => r.recipientId),
    );
    if (!loaded) return EMPTY;
    const { msg, recipients } = loaded;
    const log = ctx.logger.child({ queueId: msg.queueId });
    const now = ctx.now();
    const byId = new Map(recipients.map((r) => [r.id, r]));
    const next = nextAttempt(ctx.schedule, msg.receivedAt, outcome.attempt, now, ctx.random);

    const planned: { r: Recipient; result: Result; status: RecipientStatus; expired: boolean }[] = [];
    const rows: AppliedResult[] = [];
    for (const result of outcome.results) {
      const r = byId.get(result.recipientId);
      if (!r || !['queued', 'deferred', 'held'].includes(r.status) || r.attempts >= outcome.attempt) continue;
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
      rows.push({
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
      });
      planned.push({
        r: { ...r, status, attempts: outcome.attempt, nextAttemptAt: next },
        result,
        status,
        expired,
      });
    }
    const updated = await recordResults(ctx.pool, {
      messageId: msg.id,
      queueId: msg.queueId,
      attempt: outcome.attempt,
      now,
      results: rows,
    });
    const applied = planned.filter((p) => updated.has(p.r.id));

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

    const deferred = applied.filter((a) => a.status === 'deferred').map((a) => a.r);
    // Failed here without an attempt: the deadline passed while this outcome was applied, or the
    // address was suppressed in the meantime.
    let failedAtDispatch = 0;
    if (deferred.length > 0 && msg.state === 'queued' && next) {
      const { jobs, failed } = await this.dispatcher.dispatch(msg, deferred, { notBefore: next });
      failedAtDispatch = failed;
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
    if (deferred.length > 0 && delayWarningDue(ctx.schedule, msg.receivedAt, now)) {
      await this.dsn.writeDelayNotice(
        msg.id,
        deferred.filter((r) => r.delayNotifiedAt === null).map((r) => r.id),
      );
    }
    const failed = applied.filter((a) => a.status === 'failed').length;
    const delivered = applied.filter((a) => a.status === 'delivered').length;
    if (failed + delivered + failedAtDispatch > 0 && msg.state === 'queued') await this.settler.settle(msg);
    return {
      applied: applied.length,
      delivered,
      deferred: deferred.length,
      failed,
      nextAttemptAt: deferred.length ? next : null,
    };
  }
}
