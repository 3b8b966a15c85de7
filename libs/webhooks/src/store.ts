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

/** A position in the due scan: the (next_attempt_at, id) of the last delivery read. */
export interface DueCursor {
  at: Date;
  id: string;
}

/** Before every delivery: where a scan from the start begins. */
export const SCAN_START: DueCursor = { at: new Date(0), id: '00000000-0000-0000-0000-000000000000' };

export interface DueDelivery {
  id: string;
  endpoint_id: string;
  next_attempt_at: Date;
  /** Its endpoint takes several events per POST. */
  batch: boolean;
}

/**
 * Up to `limit` due deliveries of enabled endpoints after `cursor`, in (next_attempt_at, id)
 * order. A read only: the claim on them is held in Redis (claims.ts), so queuing a delivery
 * writes nothing to PostgreSQL.
 */
export async function dueAfter(pool: pg.Pool, cursor: DueCursor, limit: number): Promise<DueDelivery[]> {
  const { rows } = await pool.query<DueDelivery>(
    `SELECT d.id, d.endpoint_id, d.next_attempt_at, w.batch
       FROM webhook_deliveries d
       JOIN webhook_endpoints w ON w.id = d.endpoint_id AND w.enabled
      WHERE d.status = 'pending' AND d.next_attempt_at <= now()
        AND d.next_attempt_at >= $1 AND (d.next_attempt_at, d.id) > ($1, $2::uuid)
      ORDER BY d.next_attempt_at, d.id LIMIT $3`,
    [cursor.at, cursor.id, limit],
  );
  return rows;
}

export interface AttemptResult {
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
}

/**
 * Records 2xx answers of one endpoint in one statement: each delivery done, its successful
 * attempt kept in the row itself (last_status, last_latency_ms, delivered_at; the API lists it
 * after the failed attempts), and the endpoint no longer failing (written only if it was).
 */
export async function recordSuccesses(
  pool: pg.Pool,
  endpointId: string,
  done: readonly { deliveryId: string; attempt: AttemptResult }[],
) {
  if (done.length === 0) return;
  await pool.query(
    `WITH x AS (SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[]) AS x(id, status, latency)),
          e AS (UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $4 AND failing_since IS NOT NULL)
     UPDATE webhook_deliveries d SET status = 'delivered', attempts = d.attempts + 1, delivered_at = now(),
            last_status = x.status, last_latency_ms = x.latency, last_error = NULL
       FROM x WHERE d.id = x.id`,
    [
      done.map((d) => d.deliveryId),
      done.map((d) => d.attempt.statusCode),
      done.map((d) => d.attempt.latencyMs),
      endpointId,
    ],
  );
}

export interface FailedDelivery {
  id: string;
  attempts: number;
  created_at: Date;
}

/**
 * Records one failed attempt (network error, timeout or non-2xx) of one POST, which carried
 * one delivery or a batch: each gets an attempt row, and all are due again together after the
 * backoff of the most tried one (a batch is retried as a whole), or failed when that would be
 * past their own retry window. Says whether the endpoint has now failed for a whole window:
 * failing (no 2xx) for longer than the window, or a delivery given up with no 2xx from the
 * endpoint since its first attempt.
 */
export async function recordFailures(
  pool: pg.Pool,
  deliveries: readonly FailedDelivery[],
  endpointId: string,
  attempt: AttemptResult,
  policy: RetryPolicy,
): Promise<{ failingSince: Date; failedWindow: boolean; delayMs: number }> {
  const delayMs = retryDelay(policy, Math.max(...deliveries.map((d) => d.attempts)) + 1);
  const giveUp = deliveries.map((d) => Date.now() + delayMs > d.created_at.getTime() + policy.windowMs);
  const { rows } = await pool.query<{ failing_since: Date; first_attempt: Date | null }>(
    `WITH x AS (SELECT * FROM unnest($1::uuid[], $2::bool[]) AS x(id, give_up)),
          first AS (SELECT max(coalesce((SELECT min(at) FROM webhook_attempts a WHERE a.delivery_id = x.id), now())) AS at
                      FROM x WHERE give_up),
          a AS (INSERT INTO webhook_attempts (delivery_id, status_code, latency_ms, error) SELECT id, $3, $4, $5 FROM x),
          d AS (UPDATE webhook_deliveries d
                   SET attempts = d.attempts + 1, last_status = $3, last_error = $5, last_latency_ms = $4,
                       status = CASE WHEN x.give_up THEN 'failed' ELSE d.status END,
                       next_attempt_at = now() + $6 * interval '1 millisecond'
                  FROM x WHERE d.id = x.id)
     UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, now()) WHERE id = $7
     RETURNING failing_since, (SELECT at FROM first) AS first_attempt`,
    [
      deliveries.map((d) => d.id),
      giveUp,
      attempt.statusCode,
      attempt.latencyMs,
      attempt.error,
      delayMs,
      endpointId,
    ],
  );
  const failingSince = rows[0]?.failing_since ?? new Date();
  const firstAttempt = rows[0]?.first_attempt ?? null;
  const failedWindow =
    Date.now() - failingSince.getTime() >= policy.windowMs ||
    (firstAttempt !== null && failingSince <= firstAttempt);
  return { failingSince, failedWindow, delayMs };
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
