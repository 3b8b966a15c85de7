/**
 * The retry schedule of the queue manager.
 *
 * A message's recipients are tried at once when it is routed. After a temporary failure (a 4xx
 * reply, or no answer at all: DNS, connection, timeout) a recipient is `deferred` and tried again
 * after a delay that grows with the number of attempts it has had:
 *
 *     delay(n) = min(maxInterval, firstRetry × multiplier^(n−1) × (1 ± jitter))
 *
 * where n ≥ 1 is the number of attempts so far. With the defaults (5 min, ×2, 4 h, ±10 %) the
 * tries come at about 0, 5 min, 15 min, 35 min, 1 h 15, 2 h 35, 5 h 15, then every 4 h. The jitter
 * spreads the retries of many messages deferred together (a destination that was down) so they
 * do not all come back in the same second. The recipients of one destination deferred by the same
 * attempt share one delay and therefore one delivery job.
 *
 * A message expires `expireAfter` (5 days) after it was received (RFC 5321 §4.5.4.1 asks for
 * "at least 4-5 days"): a next try is never scheduled past that moment (the last one happens at
 * the deadline), and a recipient still deferred then fails with `4.4.7` (RFC 3463: delivery time
 * expired) and bounces with its last remote reply as the diagnostic.
 *
 * A recipient that has waited `delayWarningAfter` (4 h) since the message was received and is
 * still deferred gets one delay notification (RFC 3464 action `delayed`), if its NOTIFY asks for
 * it (RFC 3461 §4.1). Without NOTIFY we send it too (`delayWhenAbsent`, RFC 3461 leaves it to us;
 * like Postfix's `delay_warning_time`, but on by default).
 *
 * PostgreSQL holds `next_attempt_at` for every waiting recipient; the delayed BullMQ job is only
 * the alarm clock. If Redis loses it, the reconciler finds the recipient due and enqueues it again.
 */

export interface RetrySchedule {
  /** Delay after the first failed attempt. Default 5 minutes. */
  readonly firstRetryMs: number;
  /** Factor between successive delays. Default 2. */
  readonly multiplier: number;
  /** Cap on the delay between two tries. Default 4 hours. */
  readonly maxIntervalMs: number;
  /** Relative jitter: 0.1 means the delay is drawn from ±10 % around its nominal value. */
  readonly jitter: number;
  /** Time after `receivedAt` when undelivered recipients fail with 4.4.7. Default 5 days. */
  readonly expireAfterMs: number;
  /** Time after `receivedAt` after which a deferred recipient gets one delay DSN. Default 4 hours. */
  readonly delayWarningAfterMs: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const DEFAULT_SCHEDULE: RetrySchedule = {
  firstRetryMs: 5 * MINUTE,
  multiplier: 2,
  maxIntervalMs: 4 * HOUR,
  jitter: 0.1,
  expireAfterMs: 5 * 24 * HOUR,
  delayWarningAfterMs: 4 * HOUR,
};

export function resolveSchedule(partial: Partial<RetrySchedule> = {}): RetrySchedule {
  const s = { ...DEFAULT_SCHEDULE, ...partial };
  for (const [key, value] of Object.entries(s)) {
    if (!Number.isFinite(value) || value < 0) throw new Error(`retry schedule: ${key} must be a number ≥ 0`);
  }
  if (s.jitter >= 1) throw new Error('retry schedule: jitter must be below 1');
  return s;
}

/** Milliseconds to wait after the `attempts`-th attempt failed temporarily (`attempts` ≥ 1). */
export function retryDelay(
  schedule: RetrySchedule,
  attempts: number,
  random: () => number = Math.random,
): number {
  const n = Math.max(1, attempts);
  const nominal = Math.min(schedule.maxIntervalMs, schedule.firstRetryMs * schedule.multiplier ** (n - 1));
  const factor = 1 - schedule.jitter + 2 * schedule.jitter * random();
  return Math.round(Math.min(schedule.maxIntervalMs, nominal * factor));
}

/** When the message expires. */
export function expiresAt(schedule: RetrySchedule, receivedAt: Date): Date {
  return new Date(receivedAt.getTime() + schedule.expireAfterMs);
}

/**
 * The next attempt after a temporary failure at `now`, never later than the expiry; `null` when
 * the message has expired (the recipient fails with 4.4.7).
 */
export function nextAttempt(
  schedule: RetrySchedule,
  receivedAt: Date,
  attempts: number,
  now: Date,
  random?: () => number,
): Date | null {
  const expiry = expiresAt(schedule, receivedAt).getTime();
  if (now.getTime() >= expiry) return null;
  return new Date(Math.min(expiry, now.getTime() + retryDelay(schedule, attempts, random)));
}

/** Is a delay notice due for a message received at `receivedAt`? */
export function delayWarningDue(schedule: RetrySchedule, receivedAt: Date, now: Date): boolean {
  return now.getTime() - receivedAt.getTime() >= schedule.delayWarningAfterMs;
}
