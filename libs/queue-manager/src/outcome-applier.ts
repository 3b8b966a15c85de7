/**
 * The outcome applier: consumes `outcome` (DESIGN.md "A message's life", step 5). Per recipient
 * (RFC 5321 §4.2.1 reply classes): 2xx → `delivered`; 4xx or no answer → `deferred`, retried per
 * the schedule (schedule.ts), or `failed` with 4.4.7 once the message has expired; 5xx → `failed`.
 * Each applied result writes a `delivery_attempts` row and an event, in one transaction.
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
import { MESSAGE_REF, TX } from './types';

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
    const msg = await ctx.db.message.findUnique({ where: { id: outcome.messageId }, select: MESSAGE_REF });
    if (!msg) return EMPTY;
    const log = ctx.logger.child({ queueId: msg.queueId });
    const now = ctx.now();
    const recipients = await ctx.db.recipient.findMany({
      where: { messageId: msg.id, id: { in: outcome.results.map((r) => r.recipientId) } },
    });
    const byId = new Map(recipients.map((r) => [r.id, r]));
    const next = nextAttempt(ctx.schedule, msg.receivedAt, outcome.attempt, now, ctx.random);

    const applied: { r: Recipient; result: Result; status: RecipientStatus; expired: boolean }[] = [];
    await ctx.db.$transaction(async (tx) => {
      for (const result of outcome.results) {
        const r = byId.get(result.recipientId);
        if (!r || !['queued', 'deferred', 'held'].includes(r.status) || r.attempts >= outcome.attempt)
          continue;
        const expired = result.kind === 'deferred' && next === null;
        const status: RecipientStatus =
          result.kind === 'delivered'
            ? 'delivered'
            : result.kind === 'failed' || expired
              ? 'failed'
              : r.status === 'held'
                ? 'held'
                : 'deferred';
        const { count } = await tx.recipient.updateMany({
          where: { id: r.id, status: r.status, attempts: r.attempts },
          data: {
            status,
            attempts: outcome.attempt,
            lastAttemptAt: now,
            nextAttemptAt: status === 'deferred' || status === 'held' ? next : null,
            lastReplyCode: result.code,
            lastEnhancedCode: result.enhanced ?? null,
            lastReplyText: result.text,
          },
        });
        if (count === 0) continue;
        await tx.deliveryAttempt.create({
          data: {
            messageId: msg.id,
            recipientId: r.id,
            startedAt: now,
            finishedAt: now,
            mxHost: result.remote?.host ?? null,
            ip: result.remote?.address ?? null,
            port: result.remote?.port ?? null,
            replyCode: result.code,
            enhancedCode: result.enhanced ?? null,
            replyText: result.text,
            tlsVersion: result.tls?.version ?? null,
            tlsCipher: result.tls?.cipher ?? null,
            tlsVerified: result.tls ? result.tls.verified : null,
          },
        });
        const reply = {
          replyCode: result.code,
          enhancedCode: result.enhanced ?? null,
          replyText: result.text,
        };
        await tx.event.create({
          data: {
            type: expired ? 'expired' : result.kind,
            messageId: msg.id,
            queueId: msg.queueId,
            recipientId: r.id,
            detail: {
              ...reply,
              attempt: outcome.attempt,
              route: outcome.route,
              destination: outcome.destination,
              mxHost: result.remote?.host ?? null,
              ...(expired ? { reason: EXPIRED_REASON } : {}),
              ...(status === 'deferred' && next ? { nextAttemptAt: next.toISOString() } : {}),
            },
          },
        });
        applied.push({
          r: { ...r, status, attempts: outcome.attempt, nextAttemptAt: next },
          result,
          status,
          expired,
        });
      }
    }, TX);

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
