import { Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '@mta/config';
import { PrismaService } from '@mta/db';
import { startSubmission, type RunningSmtpService } from '@mta/intake';
import { Drain, LOGGER, Metrics, type Logger } from '@mta/observability';
import { JobProducer, REDIS_CLIENT } from '@mta/queue';
import { APP_CONFIG } from '@mta/runtime';
import type { Redis } from 'ioredis';

/**
 * Ports 587 (STARTTLS) and 465 (implicit TLS): our users' outgoing mail, after AUTH.
 * The SMTP engine and the intake logic live in libs (`startSubmission` of @mta/intake, plain
 * TypeScript); this module takes the process's shared resources, starts it once the application
 * has booted, drains it on SIGTERM (`Drain`: 421 4.3.2 to new sessions for SMTP_DRAIN_MS while
 * open transactions finish, `/readyz` at 503) and closes it on shutdown.
 */
@Module({})
export class SubmissionModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private running?: RunningSmtpService;

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
    const { config, db, producer, redis, logger, metrics } = this;
    const running = await startSubmission({ config, db: db.client, pool: db.pool, producer, redis, logger, metrics });
    this.running = running;
    this.drain.register({ name: 'submission', run: () => running.drain() });
    logger.info({ listen: running.addresses }, 'submission listening');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.running?.close();
  }
}
