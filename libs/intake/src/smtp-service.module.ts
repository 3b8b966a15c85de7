import {
  Inject,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type Type,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@mta/config';
import { PrismaService } from '@mta/db';
import { Drain, LOGGER, Metrics, type Logger } from '@mta/observability';
import { JobProducer, REDIS_CLIENT } from '@mta/queue';
import type { Redis } from 'ioredis';
import type { RunningSmtpService, SmtpServiceContext } from './smtp-service';

/**
 * The Nest lifecycle shared by the `mx` and `submission` modules: take the process's shared
 * resources, start the SMTP service once the application has booted, drain it on SIGTERM
 * (`Drain`: 421 4.3.2 to new sessions for SMTP_DRAIN_MS while open transactions finish, with
 * `/readyz` at 503), close it on shutdown.
 * A feature module is then one line: `export class MxModule extends smtpServiceModule(...) {}`.
 */
export function smtpServiceModule(
  service: 'mx' | 'submission',
  start: (ctx: SmtpServiceContext) => Promise<RunningSmtpService>,
): Type<OnApplicationBootstrap & OnApplicationShutdown> {
  @Module({})
  class SmtpServiceModule implements OnApplicationBootstrap, OnApplicationShutdown {
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
      this.running = await start({ config, db: db.client, pool: db.pool, producer, redis, logger, metrics });
      const running = this.running;
      this.drain.register({ name: service, run: () => running.drain() });
      logger.info({ listen: this.running.addresses }, `${service} listening`);
    }

    async onApplicationShutdown(): Promise<void> {
      await this.running?.close();
    }
  }
  return SmtpServiceModule;
}
