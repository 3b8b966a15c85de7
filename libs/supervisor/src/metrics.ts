import { AggregatorRegistry, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/**
 * The supervisor's `/metrics`: every child's registry, asked over the child's IPC channel, in one
 * Prometheus text exposition.
 *
 * prom-client's own facility for this is AggregatorRegistry (its cluster support): a worker
 * answers with `registry.getMetricsAsJSON()`, the primary merges those with
 * `AggregatorRegistry.aggregate` and prom-client renders the text (HELP and TYPE once per
 * family, label values escaped, histogram `_bucket` samples with `le`). It sums the series of
 * equal labels across workers; as its documentation says, a label unique to each worker keeps
 * them apart. Here that label is `child` (`mx`, `delivery-2`): one process, as a pod is in
 * Kubernetes, while `service` (each process's own default label) and the metric names stay what
 * the service exports alone.
 */

/** One metric family as `getMetricsAsJSON()` gives it, as it crosses the IPC channel. */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  /** `counter`, `gauge`, `histogram`, `summary`. */
  readonly type: string;
  readonly values: readonly MetricSample[];
}

export interface MetricSample {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number | undefined>>;
  /** Set for a histogram's `_bucket`, `_sum`, `_count` and a summary's `_sum`, `_count`. */
  readonly metricName?: string;
}

/** The supervisor asks a child for its metrics (the child answers with a `MetricsReply`). */
export interface MetricsRequest {
  type: 'metrics';
  id: number;
}

export interface MetricsReply {
  type: 'metrics';
  id: number;
  metrics: MetricFamily[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

export const isMetricsRequest = (m: unknown): m is MetricsRequest =>
  isObject(m) && m['type'] === 'metrics' && Number.isInteger(m['id']) && !('metrics' in m);

const isSample = (s: unknown): s is MetricSample =>
  isObject(s) &&
  typeof s['value'] === 'number' &&
  isObject(s['labels']) &&
  (s['metricName'] === undefined || typeof s['metricName'] === 'string');

const isFamily = (f: unknown): f is MetricFamily =>
  isObject(f) &&
  typeof f['name'] === 'string' &&
  typeof f['help'] === 'string' &&
  typeof f['type'] === 'string' &&
  Array.isArray(f['values']) &&
  f['values'].every(isSample);

export const isMetricsReply = (m: unknown): m is MetricsReply =>
  isObject(m) &&
  m['type'] === 'metrics' &&
  Number.isInteger(m['id']) &&
  Array.isArray(m['metrics']) &&
  m['metrics'].every(isFamily);

/** What a service's families look like on the wire (prom-client types `type` as an enum; it is the text). */
export function toFamilies(metrics: readonly MetricObjectWithValues<MetricValue<string>>[]): MetricFamily[] {
  return metrics.map((m) => ({ name: m.name, help: m.help, type: String(m.type), values: m.values }));
}

/**
 * In a child (runService in libs/runtime): answers the supervisor's `MetricsRequest`s on the IPC
 * channel with the families of `registry`.
 */
export function answerMetricsRequests(registry: Registry, channel: NodeJS.Process = process): void {
  channel.on('message', (message) => {
    if (!isMetricsRequest(message)) return;
    void registry.getMetricsAsJSON().then((metrics) => {
      const reply: MetricsReply = { type: 'metrics', id: message.id, metrics: toFamilies(metrics) };
      if (channel.connected) channel.send?.(reply);
    });
  });
}

/**
 * A copy of a child's families with `child` on every sample. A sample that already has a `child`
 * label keeps its value as `exported_child`, as Prometheus itself does with a target label
 * that clashes (`honor_labels: false`).
 */
export function withChildLabel(child: string, families: readonly MetricFamily[]): MetricFamily[] {
  return families.map((f) => ({
    ...f,
    values: f.values.map((v) => {
      const { child: own, ...labels } = v.labels;
      return { ...v, labels: { ...labels, ...(own === undefined ? {} : { exported_child: own }), child } };
    }),
  }));
}

/**
 * One exposition of families from several processes, already told apart by a label (`child`):
 * each family once (HELP and TYPE of the first process that has it), every sample as it came.
 */
export async function renderMerged(
  sources: readonly (readonly MetricFamily[])[],
): Promise<{ contentType: string; body: string }> {
  // 'first' for every family: no two samples share their labels (each has its own `child`), so
  // no aggregation happens; the default per family would sum (equal here too) but 'omit' drops
  // a family (process_start_time_seconds), and that is a child's own value we want to show.
  const families = sources.map((families) => families.map((f) => ({ ...f, aggregator: 'first' })));
  const registry = AggregatorRegistry.aggregate(families);
  return { contentType: registry.contentType, body: await registry.metrics() };
}
