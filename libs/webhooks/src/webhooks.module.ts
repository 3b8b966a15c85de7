import { Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@mta/config';
import { PrismaService } from '@mta/db';
import { Drain, LOGGER, Metrics, type Logger } from '@mta/observability';
import { JobProducer, createRedisConnection } from '@mta/queue';
import type { Redis } from 'ioredis';
import { WebhooksWorker } from './webhooks-worker';

/**
 * Starts the webhooks worker (dispatcher and `webhooks` queue worker) in the process that
 * imports it: the queue manager's (`queue`, and so `all-in-one`). Without WEBHOOK_SECRET_KEY
 * it starts nothing and says so once: the admin API answers 503 for webhooks then.
 */
@Module({})
export class WebhooksWorkerModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private worker?: WebhooksWorker;
  private connection?: Redis;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly db: PrismaService,
    private readonly producer: JobProducer,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly drain: Drain,
    private readonly metrics: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    const logger = this.logger.child({ module: 'webhooks' });
    if (!this.config.WEBHOOK_SECRET_KEY) {
      logger.info('webhooks off: WEBHOOK_SECRET_KEY is not set');
      return;
    }
    this.connection = createRedisConnection(this.config.REDIS_URL, 'worker', (error) =>
      logger.debug({ err: error.message }, 'webhooks redis connection error'),
    );
    this.worker = new WebhooksWorker(
      {
        pool: this.db.pool,
        producer: this.producer,
        workerConnection: this.connection,
        prefix: this.config.REDIS_PREFIX,
        logger,
        registry: this.metrics.registry,
      },
      this.config,
    );
    this.worker.start();
    const worker = this.worker;
    this.drain.register({ name: 'webhooks', run: () => worker.stop() });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.stop();
    this.connection?.disconnect();
  }
}
