import { Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '@mta/config';
import { PrismaService } from '@mta/db';
import { startMx, type RunningSmtpService } from '@mta/intake';
import { LOGGER, Metrics, type Logger } from '@mta/observability';
import { JobProducer, REDIS_CLIENT } from '@mta/queue';
import { APP_CONFIG } from '@mta/runtime';
import type { Redis } from 'ioredis';

/**
 * Port 25: mail from the internet for the domains we host (local and relay), never an open relay.
 * The SMTP engine and the intake logic live in libs; this module only starts and stops them.
 */
@Module({})
export class MxModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private running?: RunningSmtpService;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly db: PrismaService,
    private readonly producer: JobProducer,
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { config, producer, redis, logger, metrics } = this;
    this.running = await startMx({
      config,
      db: this.db.client,
      pool: this.db.pool,
      producer,
      redis,
      logger,
      metrics,
    });
    logger.info({ listen: this.running.addresses }, 'mx listening');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.running?.close();
  }
}
