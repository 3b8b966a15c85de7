import { Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '@mta/config';
import { PrismaService } from '@mta/db';
import { DeliveryWorker, createDeliveryAgents, type ClosableAgents } from '@mta/delivery';
import { Drain, LOGGER, Metrics, type Logger } from '@mta/observability';
import { JobProducer, REDIS_CLIENT, createRedisConnection } from '@mta/queue';
import { APP_CONFIG } from '@mta/runtime';
import type { Redis } from 'ioredis';
import { TlsReportScheduler } from './tls-reports';

/**
 * Outbound delivery workers: take `delivery` jobs, deliver (MX lookup and SMTP, smart host,
 * Maildir or LMTP), report each recipient as an `outcome` job. The logic lives in
 * `@mta/delivery` (`DeliveryWorker`); this module only starts and stops it. Scales by replicas.
 *
 * Shutdown (SIGTERM): no new jobs; running deliveries get 12 s, are then aborted (their
 * unsettled recipients are reported deferred); then the pooled SMTP/LMTP sessions are closed.
 * The worker's part runs in the drain (`Drain`), at the same time as the other modules' (in
 * all-in-one, the SMTP services' drain window), not after them.
 */
@Module({})
export class DeliveryModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private worker?: DeliveryWorker;
  private agents?: ClosableAgents;
  private workerConnection?: Redis;
  private reports?: TlsReportScheduler;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly db: PrismaService,
    private readonly producer: JobProducer,
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly drain: Drain,
  ) {}

  onApplicationBootstrap(): void {
    const { config, logger } = this;
    this.workerConnection = createRedisConnection(config.REDIS_URL, 'worker', (error) =>
      logger.debug({ err: error.message }, 'delivery redis connection error'),
    );
    this.agents = createDeliveryAgents({
      hostname: config.MTA_HOSTNAME,
      dnsServers: config.DNS_SERVERS,
      port: config.DELIVERY_PORT,
      local: config.LOCAL_DELIVERY,
      maildir: {
        fileMode: config.MAILDIR_FILE_MODE,
        dirMode: config.MAILDIR_DIR_MODE,
        owner: config.MAILDIR_OWNER,
      },
      relayHost: config.RELAY_HOST,
      relayAuth: config.RELAY_HOST_USERNAME
        ? {
            username: config.RELAY_HOST_USERNAME,
            password: config.RELAY_HOST_PASSWORD,
            passwordFile: config.RELAY_HOST_PASSWORD_FILE,
          }
        : undefined,
      concurrency: config.DELIVERY_CONCURRENCY,
      redis: this.redis,
      prefix: config.REDIS_PREFIX,
      shaping: {
        maxConnections: config.DELIVERY_MAX_CONNECTIONS,
        maxMessagesPerConnection: config.DELIVERY_MAX_MESSAGES_PER_CONNECTION,
        maxMessageRate: config.DELIVERY_MAX_MESSAGE_RATE ?? null,
      },
      shapingBy: config.DELIVERY_SHAPING_BY,
      shapingOverrides: { pool: this.db.pool, refreshMs: config.DELIVERY_SHAPING_REFRESH_MS },
      mtaSts: config.MTA_STS,
      mtaStsFetchTimeoutMs: config.MTA_STS_FETCH_TIMEOUT_MS,
      daneResolver: config.DANE_RESOLVER,
      ...(config.TLSRPT_RECEIVE_ADDRESS
        ? { tlsReports: { address: config.TLSRPT_RECEIVE_ADDRESS, pool: this.db.pool } }
        : {}),
    });
    this.worker = new DeliveryWorker(
      {
        pool: this.db.pool,
        producer: this.producer,
        connection: this.workerConnection,
        prefix: config.REDIS_PREFIX,
        agents: this.agents,
        logger: logger.child({ module: 'delivery' }),
        registry: this.metrics.registry,
      },
      { concurrency: config.DELIVERY_CONCURRENCY, lockMs: config.DELIVERY_LOCK_MS },
    );
    this.worker.start();
    if (config.TLSRPT_SEND) {
      this.reports = new TlsReportScheduler({
        config,
        db: this.db.client,
        producer: this.producer,
        redis: this.redis,
        logger,
      });
      this.reports.start();
    }
    const worker = this.worker;
    this.drain.register({ name: 'delivery', run: () => worker.close() });
  }

  async onApplicationShutdown(): Promise<void> {
    this.reports?.stop();
    await this.worker?.close(); // bounded: 12 s, abort, 5 s (DeliveryWorker.close)
    // QUIT to pooled sessions is a courtesy: at most 2 s of it.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.agents?.close().catch(() => undefined),
      new Promise((resolve) => (timer = setTimeout(resolve, 2_000))),
    ]);
    clearTimeout(timer);
    this.workerConnection?.disconnect();
  }
}
