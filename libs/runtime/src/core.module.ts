import {
  Inject,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnModuleInit,
} from '@nestjs/common';
import type { AppConfig } from '@mta/config';
import { DbModule, PrismaService, pingDatabase } from '@mta/db';
import { LOGGER, Metrics, ObservabilityModule, Readiness, type Logger } from '@mta/observability';
import { QueueModule, REDIS_CLIENT, pingRedis } from '@mta/queue';
import type { Redis } from 'ioredis';
import { ConfigModule } from './config.module';
import { throttled } from './throttled';

/**
 * What every service stands on: configuration, logging and metrics, PostgreSQL, Redis.
 * It also tells readiness what "ready" means: PostgreSQL and Redis both answer.
 */
@Module({})
export class CoreModule implements OnModuleInit, BeforeApplicationShutdown {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly readiness: Readiness,
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    private readonly db: PrismaService,
  ) {}

  static forRoot(options: { config: AppConfig; logger: Logger; metrics: Metrics }): DynamicModule {
    const { config, logger, metrics } = options;
    return {
      module: CoreModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot({ logger, metrics, metricsToken: config.METRICS_TOKEN }),
        DbModule.forRoot({ databaseUrl: config.DATABASE_URL }),
        QueueModule.forRoot({
          redisUrl: config.REDIS_URL,
          prefix: config.REDIS_PREFIX,
          onError: throttled(30_000, (error) =>
            logger.warn({ err: error.message }, 'redis connection error'),
          ),
        }),
      ],
    };
  }

  onModuleInit(): void {
    this.readiness.register({ name: 'postgres', check: () => pingDatabase(this.db) });
    this.readiness.register({ name: 'redis', check: () => pingRedis(this.redis) });
  }

  beforeApplicationShutdown(signal?: string): void {
    this.logger.info({ signal }, 'shutting down');
  }
}
