import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { registeredOnce as once } from '@mta/observability';

/** Recipient transitions counted by `mta_queue_transitions_total{transition}`. */
export type Transition =
  | 'routed'
  | 'delivered'
  | 'deferred'
  | 'failed'
  | 'expired'
  | 'suppressed'
  | 'paused'
  | 'bounced'
  | 'delayed';

/**
 * The queue manager's Prometheus series. Registered once per registry: a second instance on the
 * same registry (tests, all-in-one) shares the series instead of failing.
 */
export class QueueManagerMetrics {
  readonly transitions: Counter<'transition'>;
  readonly dsns: Counter<'kind'>;
  readonly requeued: Counter<'queue'>;
  readonly recipients: Gauge<'status'>;
  readonly reconcileRuns: Counter<'result'>;
  readonly batches: Histogram<'kind'>;

  constructor(registry: Registry) {
    this.transitions = once(
      registry,
      'mta_queue_transitions_total',
      () =>
        new Counter({
          name: 'mta_queue_transitions_total',
          help: 'Recipient transitions applied by the queue manager.',
          labelNames: ['transition'],
          registers: [registry],
        }),
    );
    this.dsns = once(
      registry,
      'mta_queue_dsn_total',
      () =>
        new Counter({
          name: 'mta_queue_dsn_total',
          help: 'Delivery status notifications written, by kind (failed, delayed, success).',
          labelNames: ['kind'],
          registers: [registry],
        }),
    );
    this.requeued = once(
      registry,
      'mta_queue_reconciler_requeued_total',
      () =>
        new Counter({
          name: 'mta_queue_reconciler_requeued_total',
          help: 'Jobs the reconciler enqueued again because Redis did not have them.',
          labelNames: ['queue'],
          registers: [registry],
        }),
    );
    this.reconcileRuns = once(
      registry,
      'mta_queue_reconciler_runs_total',
      () =>
        new Counter({
          name: 'mta_queue_reconciler_runs_total',
          help: 'Reconciler runs, by result (done, skipped: another replica held the lock, error).',
          labelNames: ['result'],
          registers: [registry],
        }),
    );
    this.recipients = once(
      registry,
      'mta_queue_recipients',
      () =>
        new Gauge({
          name: 'mta_queue_recipients',
          help: 'Recipients of unfinished messages by status, as of the last reconciler run.',
          labelNames: ['status'],
          registers: [registry],
        }),
    );
    this.batches = once(
      registry,
      'mta_queue_batch_jobs',
      () =>
        new Histogram({
          name: 'mta_queue_batch_jobs',
          help: 'Jobs handled together in one batch by the router (route) and the outcome applier (outcome).',
          labelNames: ['kind'],
          buckets: [1, 2, 4, 8, 16, 32, 64],
          registers: [registry],
        }),
    );
  }

  batch(kind: 'route' | 'outcome', jobs: number): void {
    this.batches.observe({ kind }, jobs);
  }

  count(transition: Transition, n = 1): void {
    if (n > 0) this.transitions.inc({ transition }, n);
  }
}
