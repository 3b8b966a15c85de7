import type pg from 'pg';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { registeredOnce as once, withTimeout } from '@mta/observability';

/** How a POST (or the events it carried) ended: a 2xx answer, or anything else. */
export type PostOutcome = 'delivered' | 'failed';

/**
 * The webhooks worker's Prometheus series, so an operator sees a failing or slow endpoint
 * without reading the attempt log. Registered once per registry: a second worker on the same
 * registry (tests, all-in-one) shares them.
 */
export class WebhookMetrics {
  readonly posts: Counter<'result'>;
  readonly events: Counter<'result'>;
  readonly postSeconds: Histogram;
  readonly disabled: Counter;

  constructor(registry: Registry) {
    this.posts = once(
      registry,
      'mta_webhook_posts_total',
      (name) =>
        new Counter({
          name,
          help: 'Webhook POSTs by result (2xx: delivered).',
          labelNames: ['result'],
          registers: [registry],
        }),
    );
    this.events = once(
      registry,
      'mta_webhook_events_total',
      (name) =>
        new Counter({
          name,
          help: 'Events carried by webhook POSTs, by the result of their POST (a batch counts each event).',
          labelNames: ['result'],
          registers: [registry],
        }),
    );
    this.postSeconds = once(
      registry,
      'mta_webhook_post_seconds',
      (name) =>
        new Histogram({
          name,
          help: 'Time from a webhook POST to its answer (or its failure).',
          buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
          registers: [registry],
        }),
    );
    this.disabled = once(
      registry,
      'mta_webhook_endpoints_disabled_total',
      (name) =>
        new Counter({
          name,
          help: 'Webhook endpoints disabled after failing for the whole retry window.',
          registers: [registry],
        }),
    );
  }

  /** One POST's answer (`latencyMs` to it) for `events` events. */
  post(result: PostOutcome, events: number, latencyMs: number): void {
    this.posts.inc({ result });
    this.events.inc({ result }, events);
    this.postSeconds.observe(latencyMs / 1000);
  }
}

/** Longest a scrape waits for PostgreSQL before it reports no backlog. */
const BACKLOG_TIMEOUT_MS = 2_000;

/**
 * `mta_webhook_due` (deliveries pending and due now) and `mta_webhook_oldest_due_seconds` (how
 * long the oldest of them has been due), read from PostgreSQL at each scrape, so a stuck or
 * slow endpoint shows as a growing lag. The outbox is shared: every replica reports the same
 * numbers. While PostgreSQL does not answer within 2 s they are NaN (unknown), never 0: an
 * outage must not read as an empty outbox.
 */
export function registerWebhookBacklog(registry: Registry, pool: Pick<pg.Pool, 'query'>): void {
  if (registry.getSingleMetric('mta_webhook_due')) return;
  let reading: Promise<{ due: number; oldest: number } | undefined> | undefined;
  // One query per scrape for both gauges: the first collect starts it, the second shares it.
  const read = () => (reading ??= backlog(pool).finally(() => setImmediate(() => (reading = undefined))));
  new Gauge({
    name: 'mta_webhook_due',
    help: 'Webhook deliveries pending and due now (the outbox backlog), read from PostgreSQL at each scrape.',
    registers: [registry],
    async collect() {
      this.set((await read())?.due ?? NaN);
    },
  });
  new Gauge({
    name: 'mta_webhook_oldest_due_seconds',
    help: 'How long the oldest pending webhook delivery has been due (0: none), read at each scrape.',
    registers: [registry],
    async collect() {
      this.set((await read())?.oldest ?? NaN);
    },
  });
}

function backlog(pool: Pick<pg.Pool, 'query'>): Promise<{ due: number; oldest: number } | undefined> {
  const query = pool.query<{ due: number; oldest: number | null }>(
    `SELECT count(*)::int AS due, EXTRACT(EPOCH FROM now() - min(next_attempt_at))::float8 AS oldest
       FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= now()`,
  );
  return withTimeout(query, BACKLOG_TIMEOUT_MS, 'no answer').then(
    (r) => ({ due: r.rows[0]?.due ?? 0, oldest: Math.max(0, r.rows[0]?.oldest ?? 0) }),
    () => undefined,
  );
}
