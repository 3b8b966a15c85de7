import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from '@mta/observability';
import type { JobData, QueueName } from '@mta/queue';
import type { WebhookClaims } from './claims';
import type { WebhookMetrics } from './metrics';
import { postJson, type PostOptions, type PostResult } from './http-post';
import { loadDeliveries, payloadOf, type DeliveryRow } from './payload';
import type { WebhookBatch, WebhookEvent } from './schemas';
import { decryptSecret } from './secret-box';
import { signedHeaders } from './signature';
import {
  disableEndpoint,
  postpone,
  recordFailures,
  recordSuccesses,
  type AttemptResult,
  type RetryPolicy,
} from './store';

export interface SenderDeps {
  pool: pg.Pool;
  logger: Logger;
  /** WEBHOOK_SECRET_KEY, decoded. */
  key: Buffer;
  claims: WebhookClaims;
  /** The worker's series (mta_webhook_*), when a registry was given. */
  metrics?: WebhookMetrics;
}

export interface SenderOptions {
  post: PostOptions;
  retry: RetryPolicy;
  /** WEBHOOK_BATCH_MAX: most events in one POST to an endpoint that takes batches. */
  batchMax: number;
}

interface Endpoint {
  id: string;
  url: string;
  secret_enc: Buffer;
  enabled: boolean;
  batch: boolean;
}

type Done = { deliveryId: string; attempt: AttemptResult }[];

const ok = (r: PostResult): r is { status: number; latencyMs: number } =>
  'status' in r && r.status >= 200 && r.status < 300;

function attemptOf(r: PostResult): AttemptResult {
  return 'status' in r
    ? {
        statusCode: r.status,
        latencyMs: r.latencyMs,
        error: r.status >= 200 && r.status < 300 ? null : `HTTP ${r.status}`,
      }
    : { statusCode: null, latencyMs: r.latencyMs, error: r.error };
}

/**
 * The `webhook-id` of a POST: the delivery's id when it carries one event (the same on every
 * retry and replay), else one derived from the deliveries it carries (the same if the same
 * batch is sent again). Receivers deduplicate events on each event's `id` in any case.
 */
export function webhookIdOf(deliveryIds: readonly string[]): string {
  if (deliveryIds.length === 1) return deliveryIds[0] ?? '';
  return `batch_${createHash('sha256').update(deliveryIds.join(',')).digest('base64url').slice(0, 32)}`;
}

/**
 * Sends the deliveries of one `webhooks` job, in order: one event per signed POST, or, to an
 * endpoint that takes batches, up to `batchMax` events per POST as `{"events": [...]}`, signed
 * over the whole body. At the first failed POST it stops: its deliveries (the whole batch) are
 * retried after the backoff, the rest of the job waits as long (a dead endpoint costs one
 * timeout per job, not one per event). An endpoint whose every attempt has failed for the
 * whole retry window is disabled. The job's claims are released when it ends.
 */
export class WebhookSender {
  constructor(
    private readonly deps: SenderDeps,
    private readonly options: SenderOptions,
  ) {}

  async send(job: JobData<QueueName.Webhooks>): Promise<void> {
    try {
      await this.sendJob(job);
    } finally {
      await this.deps.claims.release(job.deliveryIds);
    }
  }

  private async sendJob(job: JobData<QueueName.Webhooks>): Promise<void> {
    const { pool } = this.deps;
    const endpoint = (
      await pool.query<Endpoint>(
        'SELECT id, url, secret_enc, enabled, batch FROM webhook_endpoints WHERE id = $1',
        [job.endpointId],
      )
    ).rows[0];
    // Deleted, or disabled since the job was queued (its pending deliveries failed with it).
    if (!endpoint?.enabled) return;
    const secret = decryptSecret(this.deps.key, endpoint.secret_enc);
    const rows = (await loadDeliveries(pool, job.deliveryIds)).filter((r) => r.status === 'pending');
    const size = endpoint.batch ? this.options.batchMax : 1;
    // The 2xx answers are recorded together, in one statement, when the job ends or fails.
    const done: Done = [];
    try {
      for (let i = 0; i < rows.length; i += size) {
        const delayMs = await this.sendPost(endpoint, secret, rows.slice(i, i + size), done);
        if (delayMs !== null) {
          await postpone(
            pool,
            rows.slice(i + size).map((r) => r.id),
            delayMs,
          );
          return;
        }
      }
    } finally {
      await recordSuccesses(pool, endpoint.id, done);
    }
  }

  /** The bodies of the deliveries; those whose event is gone fail here, without a POST. */
  private async payloads(rows: readonly DeliveryRow[]) {
    const sendable: { row: DeliveryRow; payload: WebhookEvent }[] = [];
    const gone: string[] = [];
    for (const row of rows) {
      const payload = payloadOf(row);
      if (payload) sendable.push({ row, payload });
      else gone.push(row.id);
    }
    if (gone.length > 0)
      await this.deps.pool.query(
        `UPDATE webhook_deliveries SET status = 'failed', last_error = $2 WHERE id = ANY($1::uuid[])`,
        [gone, 'the event no longer exists'],
      );
    return sendable;
  }

  /** One POST (one event, or a batch) and its record; null when it succeeded, else the backoff. */
  private async sendPost(endpoint: Endpoint, secret: string, rows: readonly DeliveryRow[], done: Done) {
    const sendable = await this.payloads(rows);
    if (sendable.length === 0) return null;
    const ids = sendable.map((s) => s.row.id);
    const batch: WebhookBatch = { events: sendable.map((s) => s.payload) };
    const body = JSON.stringify(endpoint.batch ? batch : sendable[0]?.payload);
    const result = await postJson(
      new URL(endpoint.url),
      signedHeaders(secret, webhookIdOf(ids), body),
      body,
      this.options.post,
    );
    const attempt = attemptOf(result);
    this.deps.metrics?.post(ok(result) ? 'delivered' : 'failed', ids.length, attempt.latencyMs);
    if (ok(result)) {
      done.push(...ids.map((deliveryId) => ({ deliveryId, attempt })));
      return null;
    }
    return this.failed(
      endpoint,
      sendable.map((s) => s.row),
      attempt,
      done,
    );
  }

  /** Records a failed POST (after the successes before it), disables the endpoint past its window. */
  private async failed(endpoint: Endpoint, rows: readonly DeliveryRow[], attempt: AttemptResult, done: Done) {
    const { pool, logger } = this.deps;
    // The successes before it first: the endpoint failing since now, not reset by them afterwards.
    await recordSuccesses(pool, endpoint.id, done.splice(0));
    const { failingSince, failedWindow, delayMs } = await recordFailures(
      pool,
      rows,
      endpoint.id,
      attempt,
      this.options.retry,
    );
    logger.info(
      { endpoint: endpoint.id, delivery: rows[0]?.id, deliveries: rows.length, error: attempt.error },
      'webhook attempt failed',
    );
    if (failedWindow) {
      const reason = `every attempt failed since ${failingSince.toISOString()} (last: ${attempt.error})`;
      if (await disableEndpoint(pool, endpoint.id, reason)) {
        this.deps.metrics?.disabled.inc();
        logger.warn({ endpoint: endpoint.id, reason }, 'webhook endpoint disabled');
      }
    }
    return delayMs;
  }
}
