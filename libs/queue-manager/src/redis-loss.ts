/**
 * Notices that Redis lost the queues (flushed, the prefix's keys deleted, restarted empty) so the
 * queue manager can reconcile at once instead of on its next periodic run (with the timer alone,
 * a wiped Redis drained a batch per interval: bench/README.md, "Measurements behind the code"). Two signs, checked every `redisWatchMs` (1 s):
 *
 * - a marker key (`<prefix>:queue-manager:alive`, written with `SET NX`) is gone: the data
 *   under the prefix was deleted, whatever the server did;
 * - the server's `run_id` (`INFO server`) changed: another Redis process answers now, which has
 *   at most what its persistence kept.
 *
 * Also, the first time Redis answers after the service started without it.
 */
import type { Redis } from 'ioredis';

export class RedisLossDetector {
  private runId?: string;
  private readonly redis: Redis;
  private readonly key: string;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.key = `${prefix}:queue-manager:alive`;
  }

  /** Records the present Redis (at start, before the first reconcile); false when unreachable. */
  async mark(): Promise<boolean> {
    try {
      this.runId = await this.serverRunId();
      await this.redis.set(this.key, this.runId, 'NX');
      return true;
    } catch {
      return false;
    }
  }

  /** Why Redis may have lost jobs since the last check, or null. Rejects while Redis is down. */
  async check(): Promise<string | null> {
    const runId = await this.serverRunId();
    const created = (await this.redis.set(this.key, runId, 'NX')) === 'OK';
    const previous = this.runId;
    this.runId = runId;
    if (previous === undefined) return 'Redis answers for the first time since the start';
    if (previous !== runId) return `Redis restarted (run_id ${previous} → ${runId})`;
    if (created) return 'the keys of the queues were deleted (flushed)';
    return null;
  }

  private async serverRunId(): Promise<string> {
    const info = await this.redis.info('server');
    return /^run_id:(\w+)/m.exec(info)?.[1] ?? 'unknown';
  }
}
