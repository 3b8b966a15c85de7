import type pg from 'pg';
import type { Logger } from '@mta/observability';
import { QueueName, type JobProducer } from '@mta/queue';
import { claimDue, pruneDone } from './store';

export interface DispatcherOptions {
  /** Deliveries claimed per query: the most held in memory at once. */
  pageSize: number;
  /** Deliveries per job (one endpoint's, sent in order by one worker). */
  perJob: number;
  /** How long claimed deliveries stay claimed (then due again if their job never ran). */
  leaseMs: number;
  /** Pause between two looks at the outbox when nothing was due. */
  intervalMs: number;
  /** Jobs waiting in the `webhooks` queue above which nothing more is queued (memory bound). */
  maxWaiting: number;
}

const PRUNE_EVERY_MS = 10 * 60_000;

/**
 * Moves due deliveries from the outbox (webhook_deliveries, filled by the trigger on events)
 * into `webhooks` jobs, a page at a time, grouped by endpoint. Redis holds at most
 * `maxWaiting` jobs of it; the rest waits in PostgreSQL.
 */
export class WebhookDispatcher {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private lastPrune = 0;

  constructor(
    private readonly deps: { pool: pg.Pool; producer: JobProducer; logger: Logger },
    private readonly options: DispatcherOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((err: Error) => this.deps.logger.warn({ err: err.message }, 'webhook dispatcher'))
        .finally(() => this.schedule(this.options.intervalMs));
    }, ms);
  }

  /** Queues everything due (page by page, while the queue has room). */
  async tick(): Promise<void> {
    const { pool, producer } = this.deps;
    const queue = producer.queue(QueueName.Webhooks);
    for (;;) {
      if (this.stopped || (await queue.getWaitingCount()) >= this.options.maxWaiting) break;
      const rows = await claimDue(pool, this.options.pageSize, this.options.leaseMs);
      await producer.enqueueMany(QueueName.Webhooks, this.jobsOf(rows));
      if (rows.length < this.options.pageSize) break;
    }
    if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = Date.now();
      await pruneDone(pool);
    }
  }

  private jobsOf(rows: { id: string; endpoint_id: string }[]) {
    const byEndpoint = new Map<string, string[]>();
    for (const row of rows) {
      const ids = byEndpoint.get(row.endpoint_id) ?? [];
      ids.push(row.id);
      byEndpoint.set(row.endpoint_id, ids);
    }
    const jobs: { endpointId: string; deliveryIds: string[] }[] = [];
    for (const [endpointId, ids] of byEndpoint) {
      for (let i = 0; i < ids.length; i += this.options.perJob)
        jobs.push({ endpointId, deliveryIds: ids.slice(i, i + this.options.perJob) });
    }
    return jobs;
  }
}
