import {
  Inject,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import type { AppConfig } from '@mta/config';
import { DbModule, PrismaService, pingDatabase } from '@mta/db';
import {
  DependencyOutage,
  LOGGER,
  Metrics,
  ObservabilityModule,
  Outages,
  Readiness,
  addressOf,
  type Logger,
} from '@mta/observability';
import { QueueModule, REDIS_CLIENT, pingRedis } from '@mta/queue';
import type { Redis } from 'ioredis';
import { ConfigModule } from './config.module';

/** The outages of PostgreSQL and Redis this process watches (outage.ts of @mta/observability). */
export const DEPENDENCY_OUTAGES = Symbol('DEPENDENCY_OUTAGES');
interface DependencyOutages {
  postgres: DependencyOutage;
  redis: DependencyOutage;
}

/** How often PostgreSQL and Redis are pinged while nothing else asks. */
const WATCH_MS = 5_000;

/** What the pg driver and Prisma say when the connection is gone (besides the address). */
const POSTGRES_CLIENT_MESSAGES =
  /Can't reach database server|Connection terminated|Timed out fetching a new connection|postgres is not reachable/;
/** What ioredis and BullMQ say when the connection is gone (besides the address). */
const REDIS_CLIENT_MESSAGES =
  /Connection is closed|Stream isn't writeable|enableOfflineQueue|Reached the max retries per request/;

/**
 * What every service stands on: configuration, logging and metrics, PostgreSQL, Redis.
 * It also tells readiness what "ready" means: PostgreSQL and Redis both answer; and it says,
 * in one line when either stops answering and one a minute while that lasts, which one, where,
 * and why (outage.ts), while /readyz gives the same reason.
 */
@Module({})
export class CoreModule implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private watch?: NodeJS.Timeout;

  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly readiness: Readiness,
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    private readonly db: PrismaService,
    @Inject(DEPENDENCY_OUTAGES) private readonly outages: DependencyOutages,
  ) {}

  static forRoot(options: { config: AppConfig; logger: Logger; metrics: Metrics; outages?: Outages }): DynamicModule {
    const { config, logger, metrics } = options;
    const registry = options.outages ?? new Outages();
    const outages: DependencyOutages = {
      postgres: registry.add(
        new DependencyOutage('postgres', addressOf(config.DATABASE_URL, 5432), logger, {
          clientMessages: POSTGRES_CLIENT_MESSAGES,
        }),
      ),
      redis: registry.add(
        new DependencyOutage('redis', addressOf(config.REDIS_URL, 6379), logger, {
          clientMessages: REDIS_CLIENT_MESSAGES,
        }),
      ),
    };
    return {
      module: CoreModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot({ logger, metrics, metricsToken: config.METRICS_TOKEN }),
        DbModule.forRoot({ databaseUrl: config.DATABASE_URL }),
        QueueModule.forRoot({
          redisUrl: config.REDIS_URL,
          prefix: config.REDIS_PREFIX,
          onError: (error) => outages.redis.failed(error),
        }),
      ],
      providers: [{ provide: DEPENDENCY_OUTAGES, useValue: outages }],
    };
  }

  onModuleInit(): void {
    const { redis } = this.outages;
    this.redis.on('ready', () => redis.answered());
    this.readiness.register({ name: 'postgres', check: () => this.pingPostgres(1_000) });
    this.readiness.register({ name: 'redis', check: () => this.pingRedis() });
    void this.pingPostgres(WATCH_MS).catch(() => undefined);
    this.watch = setInterval(() => {
      void this.pingPostgres(WATCH_MS).catch(() => undefined);
      void this.pingRedis().catch(() => undefined);
    }, WATCH_MS);
    this.watch.unref();
  }

  /** Pings PostgreSQL; reports the outage's start and end; rejects with the reason. */
  private async pingPostgres(timeoutMs: number): Promise<void> {
    const outage = this.outages.postgres;
    try {
      await pingDatabase(this.db, timeoutMs);
      outage.answered();
    } catch (error) {
      // pingDatabase's "postgres is not reachable: <reason>": the reason is what matters here.
      outage.failed((error as Error).cause ?? error);
      throw new Error(outage.reason() ?? (error as Error).message);
    }
  }

  /**
   * Pings Redis; an answer ends an outage (whichever connection noticed it first). A failure
   * is not reported from here: the connections' own errors say why (ECONNREFUSED, ...), while
   * a ping only says that the client is not connected.
   */
  private async pingRedis(): Promise<void> {
    const outage = this.outages.redis;
    try {
      await pingRedis(this.redis);
    } catch (error) {
      throw new Error(outage.reason() ?? (error as Error).message);
    }
    outage.answered();
  }

  onModuleDestroy(): void {
    clearInterval(this.watch);
  }

  beforeApplicationShutdown(signal?: string): void {
    this.logger.info({ signal }, 'shutting down');
  }
}
