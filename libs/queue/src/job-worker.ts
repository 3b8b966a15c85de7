import { UnrecoverableError, Worker, type Job, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { JobContractError, parseJob, type JobData } from './contracts';
import type { QueueName } from './queue-names';

export type JobHandler<N extends QueueName, R> = (data: JobData<N>, job: Job) => Promise<R>;

/**
 * A BullMQ worker whose handler only ever sees a validated payload. A payload that breaks
 * the contract fails the job at once (no retries): retrying cannot make it valid.
 * `onError` is told the worker's errors (e.g. `redisErrorLog`); without a listener BullMQ
 * prints them raw to the console.
 */
export function createJobWorker<N extends QueueName, R>(
  queue: N,
  handler: JobHandler<N, R>,
  options: { connection: Redis; prefix: string; onError?: (error: Error) => void } & Omit<
    WorkerOptions,
    'connection' | 'prefix'
  >,
): Worker {
  const { onError = () => undefined, ...workerOptions } = options;
  const worker = new Worker(
    queue,
    async (job: Job) => {
      let data: JobData<N>;
      try {
        data = parseJob(queue, job.data);
      } catch (error) {
        if (error instanceof JobContractError) throw new UnrecoverableError(error.message);
        throw error;
      }
      return handler(data, job);
    },
    workerOptions,
  );
  worker.on('error', onError);
  return worker;
}

/**
 * True when `promise` settled (resolved or rejected) within `ms`; it is not cancelled otherwise.
 * For bounded shutdowns: a BullMQ `Worker.close()` waits for running jobs and for its blocking
 * connection, and either may never come back.
 */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        () => true as const,
        () => true as const,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
