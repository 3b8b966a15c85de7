import { Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '@mta/config';
import { PrismaService } from '@mta/db';
import { LOGGER, type Logger } from '@mta/observability';
import { startPolicyService, type RunningPolicyService } from '@mta/policy';
import { REDIS_CLIENT } from '@mta/queue';
import { APP_CONFIG } from '@mta/runtime';
import type { Redis } from 'ioredis';

/**
 * The policy service: answers the questions of mx and submission on the `policy` queue
 * (DNS block/allow lists, greylisting, rate limits). The logic lives in `@mta/policy`; this
 * module only starts and stops its worker. Any number of replicas may run: the counters and
 * the greylist are in Redis.
 */
@Module({})
export class PolicyModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private running?: RunningPolicyService;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly db: PrismaService,
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const logger = this.logger.child({ module: 'policy' });
    this.running = await startPolicyService({
      config: this.config,
      db: this.db.client,
      redis: this.redis,
      onError: (error) => logger.debug({ err: error.message }, 'policy worker error'),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.running?.close();
  }
}
