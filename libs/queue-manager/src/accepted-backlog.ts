/**
 * Since when the `accepted` queue has work pending: the creation time of its oldest job that is
 * still to run (waiting, active, delayed...). The reconciler uses it to tell a message whose job
 * is lost from one whose job is only queued behind others: intake sends the messages of several
 * commits in one job (`accepted/<first id>/<n>`), so a message's job cannot be looked up by the
 * message's id, but a job created after the message was received cannot be older than the oldest
 * pending one. A message received well before that (grace for clock skew between the intake
 * hosts and PostgreSQL) has no job left to run.
 */
import type { Queue } from 'bullmq';

/** Sets without creation order are read whole up to this size; past it the answer is "unknown". */
const SCAN_LIMIT = 1_000;

/**
 * Milliseconds since the epoch of the oldest pending job's creation; `Infinity` when nothing is
 * pending; `-Infinity` when it cannot be told cheaply (thousands of delayed or prioritized jobs):
 * then nothing counts as lost this time.
 */
export async function pendingSince(queue: Queue): Promise<number> {
  const candidates: number[] = [];
  // A FIFO list (a paused queue keeps its jobs there too): the oldest is at the tail, which `asc` reads first.
  const [oldest] = await queue.getJobs(['wait'], 0, 0, true);
  if (oldest) candidates.push(oldest.timestamp);
  // Bounded by the workers' concurrency.
  for (const job of await queue.getJobs(['active'])) if (job) candidates.push(job.timestamp);
  // Ordered by due time or priority, not by creation: read whole while small.
  for (const type of ['delayed', 'prioritized', 'waiting-children'] as const) {
    const count = await queue.getJobCountByTypes(type);
    if (count === 0) continue;
    if (count > SCAN_LIMIT) return -Infinity;
    for (const job of await queue.getJobs([type])) if (job) candidates.push(job.timestamp);
  }
  return candidates.length === 0 ? Infinity : Math.min(...candidates);
}
