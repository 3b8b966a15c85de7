import type { Worker } from 'bullmq';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { AppConfig } from '@mta/config';
import type { Logger } from '@mta/observability';
import { QueueName, createJobWorker, redisErrorLog, settlesWithin, type JobProducer } from '@mta/queue';
import { WebhookClaims } from './claims';
import { WebhookDispatcher, type DispatcherOptions } from './dispatcher';
import type { PostOptions } from './http-post';
import { WebhookMetrics, registerWebhookBacklog } from './metrics';
import { parseSecretKey } from './secret-box';
import { WebhookSender } from './sender';
import type { RetryPolicy } from './store';

export interface WebhooksWorkerDeps {
  pool: pg.Pool;
  producer: JobProducer;
  /** A connection of its own for the BullMQ worker (which blocks on a duplicate) and the claims. */
  workerConnection: Redis;
  prefix: string;
  logger: Logger;
  /** Where the mta_webhook_* series go (the process's registry); none: not counted. */
  registry?: Registry;
}

/** The settings of config (WEBHOOK_*) as the sender and the dispatcher take them. */
export function webhookSettings(config: AppConfig) {
  const post: PostOptions = {
    allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
    connectTimeoutMs: config.WEBHOOK_CONNECT_TIMEOUT_MS,
    responseTimeoutMs: config.WEBHOOK_TIMEOUT_MS,
  };
  const retry: RetryPolicy = {
    firstMs: config.WEBHOOK_RETRY_FIRST_MS,
    windowMs: config.WEBHOOK_RETRY_WINDOW_MS,
  };
  const perJob = 20;
  const batchMax = config.WEBHOOK_BATCH_MAX;
  const dispatch: DispatcherOptions = {
    pageSize: 500,
    perJob,
    batchMax,
    // A job may take a connect + response timeout per POST before it is done.
    leaseMs: Math.max(300_000, perJob * (post.connectTimeoutMs + post.responseTimeoutMs) * 2),
    intervalMs: 250,
    lagMs: 2000,
    rescanMs: 30_000,
    maxWaiting: 1000,
  };
  return { post, retry, batchMax, dispatch, concurrency: config.WEBHOOK_CONCURRENCY };
}

/**
 * The webhooks worker: the dispatcher (outbox → `webhooks` jobs) and a BullMQ worker of its
 * own queue, with its own concurrency (WEBHOOK_CONCURRENCY), so that slow endpoints never take
 * a slot of mail delivery. Any number of replicas may run.
 */
export class WebhooksWorker {
  private worker?: Worker;
  private dispatcher?: WebhookDispatcher;

  constructor(
    private readonly deps: WebhooksWorkerDeps,
    private readonly config: AppConfig,
  ) {}

  start(): void {
    const { deps, config } = this;
    const key = parseSecretKey(config.WEBHOOK_SECRET_KEY ?? '');
    if (typeof key === 'string') throw new Error(`WEBHOOK_SECRET_KEY: ${key}`);
    const settings = webhookSettings(config);
    const claims = new WebhookClaims(deps.workerConnection, deps.prefix);
    const metrics = deps.registry ? new WebhookMetrics(deps.registry) : undefined;
    if (deps.registry) registerWebhookBacklog(deps.registry, deps.pool);
    const sender = new WebhookSender(
      { pool: deps.pool, logger: deps.logger, key, claims, metrics },
      settings,
    );
    this.worker = createJobWorker(QueueName.Webhooks, (data) => sender.send(data), {
      connection: deps.workerConnection,
      prefix: deps.prefix,
      concurrency: settings.concurrency,
      onError: redisErrorLog(deps.logger, { source: 'webhooks worker' }),
    });
    this.worker.on('failed', (job, error) =>
      deps.logger.error({ jobId: job?.id, err: error.message }, 'webhooks job failed'),
    );
    this.dispatcher = new WebhookDispatcher({ ...deps, claims }, settings.dispatch);
    this.dispatcher.start();
  }

  /** Stops queuing and waits (bounded) for the requests under way. */
  async stop(): Promise<void> {
    await this.dispatcher?.stop();
    if (this.worker) await settlesWithin(this.worker.close(), 10_000);
  }
}
