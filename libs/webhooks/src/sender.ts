import type pg from 'pg';
import type { Logger } from '@mta/observability';
import type { JobData, QueueName } from '@mta/queue';
import { postJson, type PostOptions, type PostResult } from './http-post';
import { loadDeliveries, payloadOf, type DeliveryRow } from './payload';
import { decryptSecret } from './secret-box';
import { signedHeaders } from './signature';
import {
  disableEndpoint,
  postpone,
  recordFailure,
  recordSuccesses,
  retryDelay,
  type AttemptResult,
  type RetryPolicy,
} from './store';

export interface SenderDeps {
  pool: pg.Pool;
  logger: Logger;
  /** WEBHOOK_SECRET_KEY, decoded. */
  key: Buffer;
}

export interface SenderOptions {
  post: PostOptions;
  retry: RetryPolicy;
}

interface Endpoint {
  id: string;
  url: string;
  secret_enc: Buffer;
  enabled: boolean;
}

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
 * Sends the deliveries of one `webhooks` job, in order, one event per signed POST. At the first
 * failure it stops: the failed delivery is retried after its backoff, the rest of the job waits
 * as long (a dead endpoint costs one timeout per job, not one per event). An endpoint whose
 * every attempt has failed for the whole retry window is disabled.
 */
export class WebhookSender {
  constructor(
    private readonly deps: SenderDeps,
    private readonly options: SenderOptions,
  ) {}

  async send(job: JobData<QueueName.Webhooks>): Promise<void> {
    const { pool } = this.deps;
    const endpoint = (
      await pool.query<Endpoint>('SELECT id, url, secret_enc, enabled FROM webhook_endpoints WHERE id = $1', [
        job.endpointId,
      ])
    ).rows[0];
    // Deleted, or disabled since the job was queued (its pending deliveries failed with it).
    if (!endpoint?.enabled) return;
    const secret = decryptSecret(this.deps.key, endpoint.secret_enc);
    const rows = (await loadDeliveries(pool, job.deliveryIds)).filter((r) => r.status === 'pending');
    // The 2xx answers are recorded together, in one statement, when the job ends or fails.
    const done: { deliveryId: string; attempt: AttemptResult }[] = [];
    try {
      for (const [i, row] of rows.entries()) {
        const delivered = await this.sendOne(endpoint, secret, row, done);
        if (!delivered) {
          const rest = rows.slice(i + 1).map((r) => r.id);
          await postpone(pool, rest, retryDelay(this.options.retry, row.attempts + 1));
          return;
        }
      }
    } finally {
      await recordSuccesses(pool, endpoint.id, done);
    }
  }

  /** One POST and its record; false when it failed. */
  private async sendOne(
    endpoint: Endpoint,
    secret: string,
    row: DeliveryRow,
    done: { deliveryId: string; attempt: AttemptResult }[],
  ): Promise<boolean> {
    const { pool, logger } = this.deps;
    const payload = payloadOf(row);
    if (!payload) {
      await pool.query(`UPDATE webhook_deliveries SET status = 'failed', last_error = $2 WHERE id = $1`, [
        row.id,
        'the event no longer exists',
      ]);
      return true;
    }
    const body = JSON.stringify(payload);
    const result = await postJson(
      new URL(endpoint.url),
      signedHeaders(secret, row.id, body),
      body,
      this.options.post,
    );
    const attempt = attemptOf(result);
    if (ok(result)) {
      done.push({ deliveryId: row.id, attempt });
      return true;
    }
    // The successes before it first: the endpoint failing since now, not reset by them afterwards.
    await recordSuccesses(pool, endpoint.id, done.splice(0));
    const { failingSince, failedWindow } = await recordFailure(
      pool,
      row,
      endpoint.id,
      attempt,
      this.options.retry,
    );
    logger.info({ endpoint: endpoint.id, delivery: row.id, error: attempt.error }, 'webhook attempt failed');
    if (failedWindow) {
      const reason = `every attempt failed since ${failingSince.toISOString()} (last: ${attempt.error})`;
      if (await disableEndpoint(pool, endpoint.id, reason))
        logger.warn({ endpoint: endpoint.id, reason }, 'webhook endpoint disabled');
    }
    return false;
  }
}
