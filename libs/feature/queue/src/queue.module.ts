import { Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '@mta/config';
import { PrismaService } from '@mta/db';
import { Drain, LOGGER, Metrics, type Logger } from '@mta/observability';
import { JobProducer, REDIS_CLIENT, createRedisConnection, registerQueueMetrics } from '@mta/queue';
import { srsFromConfig } from '@mta/mail';
import { QueueManager, scheduleFromConfig } from '@mta/queue-manager';
import { APP_CONFIG } from '@mta/runtime';
import { WebhooksWorkerModule } from '@mta/webhooks';
import type { Redis } from 'ioredis';

/**
 * The queue manager: routes accepted messages, schedules retries, writes bounces, expires old
 * mail, reconciles PostgreSQL against Redis. The logic lives in `@mta/queue-manager`; this module
 * only starts and stops it. Any number of replicas may run. It brings the webhooks worker
 * (libs/webhooks) along: every process running the queue manager sends webhooks too.
 */
@Module({ imports: [WebhooksWorkerModule] })
export class QueueManagerModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private manager?: QueueManager;
  private workerConnection?: Redis;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly db: PrismaService,
    private readonly producer: JobProducer,
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly drain: Drain,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { config, logger } = this;
    // Queue depths (mta_queue_jobs) for dashboards and the delivery autoscaler (k8s/components).
    registerQueueMetrics(this.metrics.registry, this.producer);
    this.workerConnection = createRedisConnection(config.REDIS_URL, 'worker', (error) =>
      logger.debug({ err: error.message }, 'queue manager redis connection error'),
    );
    // RELAY_HOST (smart host): remote recipients of a message go in one job to `relay:<host>`.
    this.manager = new QueueManager(
      {
        db: this.db.client,
        pool: this.db.pool,
        producer: this.producer,
        redis: this.redis,
        workerConnection: this.workerConnection,
        prefix: config.REDIS_PREFIX,
        logger: logger.child({ module: 'queue-manager' }),
        registry: this.metrics.registry,
        hostname: config.MTA_HOSTNAME,
      },
      // SRS_SECRET: DSNs about forwarded copies go to the original sender.
      {
        relayHost: config.RELAY_HOST || undefined,
        srs: srsFromConfig(config),
        // RETRY_FIRST_MS, RETRY_MAX_MS, RETRY_EXPIRE_MS (libs/queue-manager/src/schedule.ts).
        schedule: scheduleFromConfig(config),
      },
    );
    await this.manager.start();
    // SIGTERM: its workers stop in the drain, at the same time as the other modules'.
    const manager = this.manager;
    this.drain.register({ name: 'queue-manager', run: () => manager.stop() });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.manager?.stop();
    this.workerConnection?.disconnect();
  }
}
