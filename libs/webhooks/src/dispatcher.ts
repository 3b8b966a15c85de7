import type pg from 'pg';
import type { Logger } from '@mta/observability';
import { QueueName, type JobData, type JobProducer } from '@mta/queue';
import type { WebhookClaims } from './claims';
import { SCAN_START, dueAfter, pruneDone, type DueCursor, type DueDelivery } from './store';

export interface DispatcherOptions {
  /** Deliveries read per query: the most held in memory at once. */
  pageSize: number;
  /** Deliveries per job of an endpoint that takes one event per POST (sent in order by one worker). */
  perJob: number;
  /** Deliveries per job of an endpoint that takes batches: WEBHOOK_BATCH_MAX, one POST. */
  batchMax: number;
  /** How long a claim holds (then the delivery is queued again if its job never ended). */
  leaseMs: number;
  /** Pause between two looks at the outbox when nothing was due. */
  intervalMs: number;
  /** Each look starts this far before where the last one ended: rows committed late are seen. */
  lagMs: number;
  /** Every so often a look starts from the first due delivery (claims skip the queued ones). */
  rescanMs: number;
  /** Jobs waiting in the `webhooks` queue above which nothing more is queued (memory bound). */
  maxWaiting: number;
}

const PRUNE_EVERY_MS = 10 * 60_000;

/**
 * Moves due deliveries from the outbox (webhook_deliveries, filled by the trigger on events)
 * into `webhooks` jobs, a page at a time, grouped by endpoint: one SELECT, one Redis call to
 * claim the page, one addBulk. It writes nothing to PostgreSQL: the claims live in Redis
 * (claims.ts), and the scan goes on from where it ended rather than re-reading what is queued.
 * Redis holds at most `maxWaiting` jobs of it; the rest waits in PostgreSQL.
 */
export class WebhookDispatcher {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private lastPrune = 0;
  private cursor: DueCursor = SCAN_START;
  private lastRescan = 0;

  constructor(
    private readonly deps: { pool: pg.Pool; producer: JobProducer; claims: WebhookClaims; logger: Logger },
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

  /** Where this look starts: a little before the last one ended, or from the start now and then. */
  private startingPoint(): DueCursor {
    if (this.cursor === SCAN_START || Date.now() - this.lastRescan >= this.options.rescanMs) {
      this.lastRescan = Date.now();
      return SCAN_START;
    }
    return { at: new Date(this.cursor.at.getTime() - this.options.lagMs), id: SCAN_START.id };
  }

  /** Queues everything due (page by page, while the queue has room). */
  async tick(): Promise<void> {
    const { pool, producer, claims } = this.deps;
    const queue = producer.queue(QueueName.Webhooks);
    let cursor = this.startingPoint();
    for (;;) {
      if (this.stopped || (await queue.getWaitingCount()) >= this.options.maxWaiting) break;
      const rows = await dueAfter(pool, cursor, this.options.pageSize);
      const last = rows.at(-1);
      if (!last) break;
      const claimed = await claims.claim(
        rows.map((r) => r.id),
        this.options.leaseMs,
      );
      const jobs = this.jobsOf(rows.filter((r) => claimed.has(r.id)));
      try {
        await producer.enqueueMany(QueueName.Webhooks, jobs);
      } catch (error) {
        await claims.release([...claimed]);
        throw error;
      }
      cursor = { at: last.next_attempt_at, id: last.id };
      this.cursor = cursor;
      if (rows.length < this.options.pageSize) break;
    }
    if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = Date.now();
      await pruneDone(pool);
    }
  }

  /** One endpoint's deliveries per job, in order: `batchMax` of them if it takes batches, else `perJob`. */
  private jobsOf(rows: readonly DueDelivery[]): JobData<QueueName.Webhooks>[] {
    const byEndpoint = new Map<string, { batch: boolean; ids: string[] }>();
    for (const row of rows) {
      const group = byEndpoint.get(row.endpoint_id) ?? { batch: row.batch, ids: [] };
      group.ids.push(row.id);
      byEndpoint.set(row.endpoint_id, group);
    }
    const jobs: JobData<QueueName.Webhooks>[] = [];
    for (const [endpointId, { batch, ids }] of byEndpoint) {
      const size = batch ? this.options.batchMax : this.options.perJob;
      for (let i = 0; i < ids.length; i += size)
        jobs.push({ endpointId, deliveryIds: ids.slice(i, i + size) });
    }
    return jobs;
  }
}
