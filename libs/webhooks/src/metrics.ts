import { Counter, Histogram, type Registry } from 'prom-client';

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

function once<T>(registry: Registry, name: string, create: (name: string) => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create(name);
}
