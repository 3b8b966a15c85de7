import type { AppConfig } from '@mta/config';
import type { RetrySchedule } from './schedule';

/**
 * The retry schedule's settings (the multiplier, 2, and the jitter, 10 %, stay fixed), for the
 * queue manager and for the admin API's dispatch (the same expiry).
 */
export function scheduleFromConfig(
  config: Pick<AppConfig, 'RETRY_FIRST_MS' | 'RETRY_MAX_MS' | 'RETRY_EXPIRE_MS'>,
): Partial<RetrySchedule> {
  return {
    firstRetryMs: config.RETRY_FIRST_MS,
    maxIntervalMs: config.RETRY_MAX_MS,
    expireAfterMs: config.RETRY_EXPIRE_MS,
  };
}
