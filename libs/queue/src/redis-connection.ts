import { Redis, type RedisOptions } from 'ioredis';

/**
 * Redis connections for the two roles BullMQ distinguishes.
 *
 * - `worker`: blocking commands that must wait out an outage (`maxRetriesPerRequest: null`,
 *   as BullMQ requires for workers); ioredis reconnects with a capped backoff.
 * - `client`: producers and health checks, which must fail fast rather than hang when Redis
 *   is down (no offline queue), so that an SMTP reply is never held hostage by Redis.
 *   Not auto-pipelined: ioredis builds a pipeline object per tick that copies every custom
 *   command (BullMQ defines dozens of scripts), which made the MTA slower, not faster
 *   (bench/README.md, "e2e").
 * Both reconnect on their own, so a service recovers when Redis comes back.
 */
export function createRedisConnection(
  url: string,
  role: 'worker' | 'client',
  onError: (error: Error) => void = () => undefined,
): Redis {
  const common: RedisOptions = {
    lazyConnect: false,
    retryStrategy: (times) => Math.min(200 * times, 2000),
    connectionName: `mta-${role}`,
  };
  const redis = new Redis(
    url,
    role === 'worker'
      ? { ...common, maxRetriesPerRequest: null, enableOfflineQueue: true }
      : { ...common, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 },
  );
  // Connection errors repeat on every reconnect attempt; the caller decides how to report
  // them (readiness shows the state), instead of ioredis printing each one.
  redis.on('error', onError);
  return redis;
}

/** PING with a hard time limit, for readiness. */
export async function pingRedis(redis: Redis, timeoutMs = 1000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`redis did not answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once the connection is ready (a fail-fast client refuses commands until then). */
export function redisReady(redis: Redis, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`redis not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}
