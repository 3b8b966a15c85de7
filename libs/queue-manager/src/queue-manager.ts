/**
 * The queue manager of one process: the `accepted` worker (router), the `outcome` worker
 * (outcome applier, retries, DSNs) and the reconciler: periodic, and at once when Redis lost
 * its data (redis-loss.ts), then again until it puts nothing back. Plain class; the Nest module
 * `@mta/feature-queue` only starts and stops it. Any number of replicas may run.
 */
import { QueueName, createJobWorker, redisErrorLog, redisReady, settlesWithin } from '@mta/queue';
import type { Worker } from 'bullmq';
import { DsnWriter } from './bounces';
import { createContext, type Context, type QueueManagerDeps, type QueueManagerOptions } from './context';
import { Dispatcher } from './dispatcher';
import { OutcomeApplier } from './outcome-applier';
import { Reconciler, type ReconcileReport } from './reconciler';
import { RedisLossDetector } from './redis-loss';
import { Router } from './router';
import { Settler } from './settle';

export class QueueManager {
  readonly ctx: Context;
  readonly dispatcher: Dispatcher;
  readonly dsn: DsnWriter;
  readonly settler: Settler;
  readonly router: Router;
  readonly applier: OutcomeApplier;
  readonly reconciler: Reconciler;
  private workers: Worker[] = [];
  private timer?: NodeJS.Timeout;
  private watchTimer?: NodeJS.Timeout;
  private watching = false;
  private stopped = false;
  private readonly loss: RedisLossDetector;
  private reconciling?: Promise<ReconcileReport | null>;

  constructor(deps: QueueManagerDeps, options: QueueManagerOptions = {}) {
    this.ctx = createContext(deps, options);
    this.dispatcher = new Dispatcher(this.ctx);
    this.dsn = new DsnWriter(this.ctx);
    this.settler = new Settler(this.ctx, this.dsn);
    this.router = new Router(this.ctx, this.dispatcher, this.settler);
    this.applier = new OutcomeApplier(this.ctx, this.dispatcher, this.dsn, this.settler);
    this.reconciler = new Reconciler(this.ctx, this.dispatcher, this.settler);
    this.loss = new RedisLossDetector(this.ctx.redis, this.ctx.prefix);
  }

  /** Starts both workers, runs the reconciler once, then every `reconcileIntervalMs`. */
  async start(): Promise<void> {
    const { ctx } = this;
    const common = { connection: ctx.workerConnection, prefix: ctx.prefix, concurrency: ctx.concurrency };
    const onError = (queue: QueueName) =>
      redisErrorLog(ctx.logger, { source: `queue manager ${queue} worker` });
    const accepted = createJobWorker(
      QueueName.Accepted,
      (data) => this.retrying(() => this.router.routeAll(data.messageIds)),
      { ...common, onError: onError(QueueName.Accepted) },
    );
    const outcome = createJobWorker(
      QueueName.Outcome,
      (data) => this.retrying(() => this.applier.apply(data)),
      { ...common, onError: onError(QueueName.Outcome) },
    );
    for (const worker of [accepted, outcome]) {
      worker.on('failed', (job, error) =>
        ctx.logger.error(
          { queue: worker.name, jobId: job?.id, err: error.message },
          'queue manager job failed',
        ),
      );
    }
    // Not waiting for the workers' connection: with Redis down at boot they connect when it
    // comes back, and the service still starts (its readiness says what is missing).
    this.workers = [accepted, outcome];
    // The client connection fails fast while it is still connecting: give it a moment before
    // the first run (if Redis is down, the next run catches up).
    await redisReady(ctx.redis, 5_000).catch(() => undefined);
    await this.loss.mark();
    await this.catchUp();
    if (ctx.reconcileIntervalMs > 0) {
      this.timer = setInterval(() => void this.catchUp(), ctx.reconcileIntervalMs);
      this.timer.unref();
    }
    if (ctx.redisWatchMs > 0) {
      this.watchTimer = setInterval(() => void this.watchRedis(), ctx.redisWatchMs);
      this.watchTimer.unref();
    }
    ctx.logger.info(
      { reconcileIntervalMs: ctx.reconcileIntervalMs, relayHost: ctx.relayHost ?? null },
      'queue manager started',
    );
  }

  /**
   * Producers (intake, delivery) enqueue with BullMQ's default of one attempt, so a passing
   * database hiccup would fail the job for good: the handler is tried up to 4 times here
   * (0.5, 1, 2 s apart). Every step is idempotent, so a retry after a partial run is safe. What
   * still fails is left to the reconciler (PostgreSQL still says what is due).
   */
  private async retrying<T>(run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (error) {
        if (attempt >= 4) throw error;
        this.ctx.logger.warn(
          { err: (error as Error).message, attempt },
          'queue manager step failed, trying again',
        );
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
      }
    }
  }

  /**
   * Runs the reconciler now (one run at a time in this process); errors are logged, not thrown.
   * Its report, or null when the run failed or another replica held the lock.
   */
  async reconcileNow(): Promise<ReconcileReport | null> {
    if (this.reconciling) return this.reconciling;
    this.reconciling = this.reconciler
      .run()
      .catch((error: Error) => {
        this.ctx.logger.error({ err: error.message }, 'reconciler run failed');
        return null;
      })
      .finally(() => (this.reconciling = undefined));
    return this.reconciling;
  }

  /**
   * Reconciles until a run puts nothing back: one run re-enqueues at most a batch (1,000
   * messages, 5,000 recipients), and after a lost Redis the next batch must not wait for the
   * timer. Stops at a failed run or when another replica holds the lock (it does the work).
   */
  async catchUp(): Promise<void> {
    for (let run = 0; run < 10_000 && !this.stopped; run++) {
      const report = await this.reconcileNow();
      if (!report || report.accepted + report.deliveries === 0) return;
    }
  }

  /** One look at Redis (redis-loss.ts): on a loss, catch up at once. Redis down: next tick. */
  private async watchRedis(): Promise<void> {
    if (this.watching) return;
    this.watching = true;
    try {
      const reason = await this.loss.check().catch(() => null);
      if (reason === null) return;
      this.ctx.logger.warn({ reason }, 'Redis lost queued jobs: reconciling now until caught up');
      await this.catchUp();
    } finally {
      this.watching = false;
    }
  }

  /**
   * Stops taking jobs and lets the running steps finish for `graceMs` (each is a few database
   * statements). A worker whose close has not returned by then (a step that hangs, or BullMQ
   * waiting for a blocking connection that never reports its end) is left behind: its jobs stay
   * active until the process exits and their lock expires, then BullMQ's stalled check gives
   * them to a worker again; every step is idempotent, so nothing is lost. Never waits longer
   * than `graceMs`, so a shutdown stays within its bound (libs/runtime/src/shutdown.ts).
   */
  async stop(graceMs = 5_000): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.watchTimer);
    this.timer = this.watchTimer = undefined;
    this.stopped = true;
    const workers = this.workers;
    this.workers = [];
    const deadline = Date.now() + graceMs;
    await Promise.all(
      workers.map(async (w) => {
        if (await settlesWithin(w.close(), Math.max(0, deadline - Date.now()))) return;
        this.ctx.logger.warn(
          { queue: w.name, graceMs },
          'queue manager worker did not close in time: its running jobs are left to the stalled check',
        );
      }),
    );
    if (this.reconciling) await settlesWithin(this.reconciling, Math.max(0, deadline - Date.now()));
  }
}
