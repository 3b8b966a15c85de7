/**
 * One JSON log line for the errors the Redis and BullMQ clients report, instead of the raw stack
 * traces BullMQ prints (`console.error`) for an `error` event nobody listens to. While Redis is
 * away every reconnect attempt of every connection fails, so the same error is logged once per
 * `intervalMs` (30 s) with the number of repeats in between, not hundreds of times.
 *
 * `Missing key for job <id>. moveToFinished` (and `Missing lock for job`): a job vanished from
 * Redis while a worker ran it, which is what a Redis flush or a restart without its data does.
 * It is expected then, and nothing is lost: PostgreSQL says what is due and the queue manager's
 * reconciler enqueues it again (libs/queue-manager/src/redis-loss.ts). So: warn, with that said.
 */

/** What the log needs of a logger (a pino `Logger` is one). */
export interface ErrorLog {
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export const LOST_JOB = /Missing (key|lock) for job/;

export const LOST_JOB_TEXT =
  'a job vanished from Redis while it ran: expected after Redis was flushed or restarted without its data; nothing is lost, the reconciler enqueues its work again from PostgreSQL';

export interface RedisErrorLogOptions {
  /** What reported it, e.g. `delivery worker` (in the line's message and `source`). */
  readonly source: string;
  /** One line per kind of error per this long. Default 30 s. */
  readonly intervalMs?: number;
  readonly now?: () => number;
}

/** A handler for `error` events that logs as described above. */
export function redisErrorLog(log: ErrorLog, options: RedisErrorLogOptions): (error: Error) => void {
  const { source, intervalMs = 30_000, now = Date.now } = options;
  const seen = new Map<string, { at: number; repeated: number }>();
  return (error) => {
    const lost = LOST_JOB.test(error.message);
    const kind = lost ? 'lost-job' : `${errorCode(error) ?? ''}:${error.message}`;
    const t = now();
    const last = seen.get(kind);
    if (last && t - last.at < intervalMs) {
      last.repeated++;
      return;
    }
    if (seen.size > 100) seen.clear(); // many distinct errors: forget the old ones
    seen.set(kind, { at: t, repeated: 0 });
    const fields = { source, err: error.message, ...(last?.repeated ? { repeated: last.repeated } : {}) };
    if (lost)
      log.warn({ ...fields, reason: LOST_JOB_TEXT }, `${source}: job lost by Redis (expected after a flush)`);
    else log.error({ ...fields, code: errorCode(error) }, `${source}: redis error`);
  };
}

function errorCode(error: Error): string | undefined {
  const code = 'code' in error ? error.code : undefined;
  return typeof code === 'string' ? code : undefined;
}
