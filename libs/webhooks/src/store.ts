import type pg from 'pg';

/** Delivery statuses (webhook_deliveries.status). */
export const DeliveryStatus = { pending: 'pending', delivered: 'delivered', failed: 'failed' } as const;
export type DeliveryStatus = (typeof DeliveryStatus)[keyof typeof DeliveryStatus];

/** Longest delay between two attempts of one delivery. */
export const RETRY_MAX_MS = 3_600_000;

export interface RetryPolicy {
  /** Delay after the first failure; each further one doubles it, up to RETRY_MAX_MS. */
  firstMs: number;
  /** How long a delivery (and an endpoint whose every attempt fails) is retried. */
  windowMs: number;
}

/** The delay after the `failures`-th failed attempt (1, 2, ...): exponential, capped. */
export function retryDelay(policy: RetryPolicy, failures: number): number {
  return Math.min(policy.firstMs * 2 ** Math.min(failures - 1, 30), RETRY_MAX_MS);
}

/**
 * Claims up to `limit` due deliveries of enabled endpoints, oldest due first, by moving their
 * due time a lease ahead: a job lost with Redis, or a crashed worker, leaves them due again
 * after the lease. SKIP LOCKED: replicas claim different rows.
 */
export async function claimDue(pool: pg.Pool, limit: number, leaseMs: number) {
  const { rows } = await pool.query<{ id: string; endpoint_id: string }>(
    `WITH due AS (
       SELECT d.id FROM webhook_deliveries d
         JOIN webhook_endpoints w ON w.id = d.endpoint_id AND w.enabled
        WHERE d.status = 'pending' AND d.next_attempt_at <= now()
        ORDER BY d.next_attempt_at LIMIT $1
        FOR UPDATE OF d SKIP LOCKED)
     UPDATE webhook_deliveries d SET next_attempt_at = now() + $2 * interval '1 millisecond'
       FROM due WHERE d.id = due.id
     RETURNING d.id, d.endpoint_id, d.created_at`,
    [limit, leaseMs],
  );
  return rows;
}

export interface AttemptResult {
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
}

/** Records 2xx answers of one endpoint in one statement: the attempts, the deliveries done, the endpoint no longer failing. */
export async function recordSuccesses(
  pool: pg.Pool,
  endpointId: string,
  done: readonly { deliveryId: string; attempt: AttemptResult }[],
) {
  if (done.length === 0) return;
  await pool.query(
    `WITH x AS (SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[]) AS x(id, status, latency)),
          a AS (INSERT INTO webhook_attempts (delivery_id, status_code, latency_ms) SELECT id, status, latency FROM x),
          e AS (UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $4 AND failing_since IS NOT NULL)
     UPDATE webhook_deliveries d SET status = 'delivered', attempts = d.attempts + 1, delivered_at = now(),
            last_status = x.status, last_error = NULL
       FROM x WHERE d.id = x.id`,
    [
      done.map((d) => d.deliveryId),
      done.map((d) => d.attempt.statusCode),
      done.map((d) => d.attempt.latencyMs),
      endpointId,
    ],
  );
}

/**
 * Records a failed attempt (network error, timeout or non-2xx): the delivery is due again after
 * the backoff, or failed when that would be past its retry window. Says whether the endpoint
 * has now failed for a whole window: failing (no 2xx) for longer than the window, or this
 * delivery given up with no 2xx from the endpoint since its first attempt.
 */
export async function recordFailure(
  pool: pg.Pool,
  delivery: { id: string; attempts: number; created_at: Date },
  endpointId: string,
  attempt: AttemptResult,
  policy: RetryPolicy,
): Promise<{ failingSince: Date; failedWindow: boolean }> {
  const delay = retryDelay(policy, delivery.attempts + 1);
  const giveUp = Date.now() + delay > delivery.created_at.getTime() + policy.windowMs;
  const { rows } = await pool.query<{ failing_since: Date; first_attempt: Date | null }>(
    `WITH first AS (SELECT min(at) AS at FROM webhook_attempts WHERE delivery_id = $1),
          a AS (INSERT INTO webhook_attempts (delivery_id, status_code, latency_ms, error) VALUES ($1, $2, $3, $4)),
          d AS (UPDATE webhook_deliveries
                   SET attempts = attempts + 1, last_status = $2, last_error = $4,
                       status = CASE WHEN $5 THEN 'failed' ELSE status END,
                       next_attempt_at = now() + $6 * interval '1 millisecond'
                 WHERE id = $1)
     UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, now()) WHERE id = $7
     RETURNING failing_since, (SELECT at FROM first) AS first_attempt`,
    [delivery.id, attempt.statusCode, attempt.latencyMs, attempt.error, giveUp, delay, endpointId],
  );
  const failingSince = rows[0]?.failing_since ?? new Date();
  const firstAttempt = rows[0]?.first_attempt ?? new Date();
  const failedWindow =
    Date.now() - failingSince.getTime() >= policy.windowMs || (giveUp && failingSince <= firstAttempt);
  return { failingSince, failedWindow };
}

/** Deliveries not tried in this job (the endpoint just failed) wait as long as the failed one. */
export async function postpone(pool: pg.Pool, ids: readonly string[], delayMs: number) {
  if (ids.length === 0) return;
  await pool.query(
    `UPDATE webhook_deliveries SET next_attempt_at = now() + $2 * interval '1 millisecond'
      WHERE id = ANY($1::uuid[]) AND status = 'pending'`,
    [ids, delayMs],
  );
}

/**
 * Disables an endpoint (it has failed for longer than the retry window); its pending deliveries
 * fail with the reason. True if this call disabled it.
 */
export async function disableEndpoint(pool: pg.Pool, endpointId: string, reason: string): Promise<boolean> {
  const { rows } = await pool.query<{ disabled: number }>(
    `WITH e AS (UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, disabled_at = now(),
                       updated_at = now()
                 WHERE id = $1 AND enabled RETURNING id),
          d AS (UPDATE webhook_deliveries SET status = 'failed', last_error = $2
                 WHERE endpoint_id IN (SELECT id FROM e) AND status = 'pending')
     SELECT count(*)::int AS disabled FROM e`,
    [endpointId, reason],
  );
  return (rows[0]?.disabled ?? 0) > 0;
}

/** Deliveries kept after they are done (delivered or failed), for the API and replays. */
export const KEEP_DONE_MS = 7 * 86_400_000;

/** Forgets done deliveries (and their attempts) older than KEEP_DONE_MS, a page at a time. */
export async function pruneDone(pool: pg.Pool, limit = 1000): Promise<number> {
  const { rowCount } = await pool.query(
    `DELETE FROM webhook_deliveries WHERE id IN (
       SELECT id FROM webhook_deliveries
        WHERE status <> 'pending' AND created_at < now() - $1 * interval '1 millisecond' LIMIT $2)`,
    [KEEP_DONE_MS, limit],
  );
  return rowCount ?? 0;
}
