import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { parseJob, jobIdOf, type JobData } from './contracts';
import type { QueueName } from './queue-names';

/** Completed jobs are kept briefly for inspection, failed ones longer for diagnosis. */
const DEFAULT_JOB_OPTIONS: JobsOptions = {
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/**
 * The only way to put a job on a queue: the payload is validated against its contract and
 * the job id derived from it, so consumers can trust what they read.
 */
export class JobProducer {
  private readonly queues = new Map<QueueName, Queue>();

  /**
   * `onError` is told the errors of the BullMQ queue objects (they repeat while Redis is away);
   * without a listener BullMQ would print each one raw to the console.
   */
  constructor(
    private readonly connection: Redis,
    private readonly prefix: string,
    private readonly onError: (error: Error) => void = () => undefined,
  ) {}

  async enqueue<N extends QueueName>(queue: N, data: JobData<N>, options: JobsOptions = {}): Promise<string> {
    const payload = parseJob(queue, data);
    // BullMQ would wait for a connection that is down; a producer must fail fast instead,
    // because the caller (an SMTP session) has a better fallback than waiting.
    if (this.connection.status !== 'ready')
      throw new Error(`redis is not connected (${this.connection.status})`);
    const jobId = options.jobId ?? jobIdOf[queue](payload);
    const job = await this.queue(queue).add(queue, payload, { ...DEFAULT_JOB_OPTIONS, ...options, jobId });
    return job.id ?? '';
  }

  /**
   * Several jobs of one queue in one Redis round trip (BullMQ's addBulk: one MULTI), each
   * validated and given its id as by `enqueue`. All or none are added.
   */
  async enqueueMany<N extends QueueName>(queue: N, items: readonly JobData<N>[]): Promise<string[]> {
    if (items.length === 0) return [];
    const payloads = items.map((data) => parseJob(queue, data));
    if (this.connection.status !== 'ready')
      throw new Error(`redis is not connected (${this.connection.status})`);
    const jobs = await this.queue(queue).addBulk(
      payloads.map((payload) => ({
        name: queue,
        data: payload,
        opts: { ...DEFAULT_JOB_OPTIONS, jobId: jobIdOf[queue](payload) },
      })),
    );
    return jobs.map((job) => job.id ?? '');
  }

  /** The BullMQ queue object, for inspection (counts, pausing) by the queue manager and the API. */
  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      queue.on('error', this.onError);
      this.queues.set(name, queue);
    }
    return queue;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
