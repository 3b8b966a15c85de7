/**
 * A `JobPlacer` for jobs PostgreSQL says are due while Redis may hold a job of the same id that
 * will never run them: the reconciler's, and an operator's "now" (retry, release, resume).
 *
 * The id of a step is deterministic, so the id may be taken:
 * - by a job still to run (waiting, active): it runs the step; nothing to add. "Now" promotes a
 *   delayed one (the retry schedule's) so it runs at once.
 * - by a finished job (completed or failed), or one in no list at all (`unknown`: its data
 *   survived a partial loss of Redis), whose step's recipients are still due: when the step's
 *   outcome is still pending nothing is done (it is on its way); when the outcome job failed it
 *   is retried (the delivery happened, only applying it failed: no second delivery); otherwise
 *   (Redis lost the outcome, or an operator made the recipients due again) both are removed and
 *   the step enqueued again. Recipients PostgreSQL calls delivered are never due, so this never
 *   delivers them twice.
 */
import { QueueName } from '@mta/queue';
import { WAITING, deliveryJobId, outcomeJobId, type DeliveryJobData } from '@mta/queue-state';
import type { Job } from 'bullmq';
import type { DispatchContext, JobPlacer } from './dispatcher';

const FINISHED: readonly string[] = ['completed', 'failed', 'unknown'];

export class ReplacingPlacer implements JobPlacer {
  constructor(
    private readonly ctx: Pick<DispatchContext, 'producer' | 'db'>,
    /** An operator's "now": a delayed job of the step runs at once. */
    private readonly now = false,
  ) {}

  async place(job: DeliveryJobData, delay: number): Promise<string | null> {
    const { producer } = this.ctx;
    const id = deliveryJobId(job);
    const existing = await producer.queue(QueueName.Delivery).getJob(id);
    if (existing) {
      const state = await existing.getState();
      if (!FINISHED.includes(state)) return this.pending(existing, state, id);
      if (!(await this.replaceFinished(job, existing))) return null;
    }
    return producer.enqueue(QueueName.Delivery, job, delay > 0 ? { delay } : {});
  }

  /** A job of the step still to run: promoted for "now"; the reconciler leaves it. */
  private async pending(existing: Job, state: string, id: string): Promise<string | null> {
    if (!this.now) return null;
    if (state === 'delayed') await existing.promote();
    return id;
  }

  /** Whether the finished job was removed so the step can run again (see the header). */
  private async replaceFinished(job: DeliveryJobData, existing: Job): Promise<boolean> {
    const { producer, db } = this.ctx;
    const outcome = await producer.queue(QueueName.Outcome).getJob(outcomeJobId(job));
    const outcomeState = outcome ? await outcome.getState() : undefined;
    if (outcome && outcomeState !== 'completed' && outcomeState !== 'failed') return false;
    if (outcome && outcomeState === 'failed') {
      await outcome.retry('failed');
      return false;
    }
    // Still due in PostgreSQL (checked again, the outcome may just have been applied)?
    const due = await db.recipient.count({
      where: { id: { in: job.recipientIds }, status: { in: [...WAITING] }, attempts: { lt: job.attempt } },
    });
    if (due !== job.recipientIds.length) return false;
    // The step runs again, so its outcome will come again: the finished outcome job would
    // swallow it (same id).
    if (outcome) await outcome.remove();
    await existing.remove();
    return true;
  }
}
