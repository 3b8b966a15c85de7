/**
 * Batching of the router and the outcome applier: the jobs of one kind that run at the same
 * time in this process (up to the workers' concurrency) are handled together, so their
 * statements run once per batch instead of once per job (one read, one write, one "done" for N
 * messages). This is the intake's group commit (`GroupCommit` in @mta/db): no timer, a lone job
 * goes at once, and under load a batch is whatever arrived while the previous ones ran. A batch
 * that fails is retried one job at a time, so one bad message fails only its own job.
 */
import type { GroupCommitOptions } from '@mta/db';
import type { Context } from './context';

/** Batches run at once, per kind: while one runs, the next one grows. */
const IN_FLIGHT = 1;
/** Jobs per batch at most. */
const MAX_BATCH = 64;

export function batchOptions<T>(
  ctx: Pick<Context, 'metrics'>,
  kind: 'route' | 'outcome',
): GroupCommitOptions<T> {
  return {
    maxInFlight: IN_FLIGHT,
    maxItems: MAX_BATCH,
    onBatch: (n) => ctx.metrics.batch(kind, n),
  };
}
