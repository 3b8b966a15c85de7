import { Gauge, type Registry } from 'prom-client';
import type { JobProducer } from './job-producer';
import { ALL_QUEUES, type QueueName } from './queue-names';

/** The gauge the autoscalers and dashboards read (k8s/components/hpa, k8s/components/monitoring). */
export const QUEUE_JOBS_METRIC = 'mta_queue_jobs';

/**
 * The job states exported, as BullMQ names them: `waiting` (ready, no worker yet: the backlog a
 * scaler acts on; BullMQ's `<prefix>:<queue>:wait` list), `delayed` (retries and deferrals not
 * yet due) and `active` (held by a worker now).
 */
export const QUEUE_JOB_STATES = ['waiting', 'delayed', 'active'] as const;

/** Longest a scrape waits for Redis before it reports no queue numbers. */
const COUNT_TIMEOUT_MS = 2_000;

/**
 * Registers `mta_queue_jobs{queue,state}`, read from Redis at each scrape (one MULTI per queue).
 * While Redis does not answer the series are absent, not zero: a scaler must not read an outage
 * as an empty queue. Registered once per registry, like the other series.
 */
export function registerQueueMetrics(
  registry: Registry,
  producer: JobProducer,
  queues: readonly QueueName[] = ALL_QUEUES,
): void {
  if (registry.getSingleMetric(QUEUE_JOBS_METRIC)) return;
  new Gauge({
    name: QUEUE_JOBS_METRIC,
    help: 'BullMQ jobs per queue by state (waiting, delayed, active), read from Redis at each scrape.',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      const counts = await withTimeout(
        Promise.all(queues.map((queue) => producer.queue(queue).getJobCounts(...QUEUE_JOB_STATES))),
        COUNT_TIMEOUT_MS,
      ).catch(() => undefined);
      if (!counts) return;
      queues.forEach((queue, i) => {
        for (const state of QUEUE_JOB_STATES) this.set({ queue, state }, counts[i]?.[state] ?? 0);
      });
    },
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
