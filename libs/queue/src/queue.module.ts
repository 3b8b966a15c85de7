import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { JobProducer } from './job-producer';
import { createRedisConnection } from './redis-connection';

/** Injection tokens of the Redis wiring. */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');
export const QUEUE_OPTIONS = Symbol('QUEUE_OPTIONS');

export interface QueueModuleOptions {
  redisUrl: string;
  /** Told of connection errors (they repeat on every reconnect attempt while Redis is down). */
  onError?: (error: Error) => void;
  /** BullMQ key prefix (REDIS_PREFIX), so installations and test runs can share a Redis. */
  prefix: string;
}

/**
 * Provides the fail-fast Redis client and the validated JobProducer. Workers open their own
 * blocking connections with `createRedisConnection(url, 'worker')`.
 */
@Global()
@Module({})
export class QueueModule implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    private readonly producer: JobProducer,
  ) {}

  static forRoot(options: QueueModuleOptions): DynamicModule {
    return {
      module: QueueModule,
      providers: [
        { provide: QUEUE_OPTIONS, useValue: options },
        {
          provide: REDIS_CLIENT,
          useFactory: () => createRedisConnection(options.redisUrl, 'client', options.onError),
        },
        {
          provide: JobProducer,
          inject: [REDIS_CLIENT],
          useFactory: (redis: Redis) => new JobProducer(redis, options.prefix, options.onError),
        },
      ],
      exports: [QUEUE_OPTIONS, REDIS_CLIENT, JobProducer],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer.close();
    this.redis.disconnect();
  }
}
