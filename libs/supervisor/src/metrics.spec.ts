import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { isMetricsReply, renderMerged, toFamilies, withChildLabel, type MetricFamily } from './metrics';

/** The families of a real prom-client registry of one service (`service` as its default label). */
async function serviceFamilies(service: string, fill: (registry: Registry) => void): Promise<MetricFamily[]> {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  fill(registry);
  return toFamilies(await registry.getMetricsAsJSON());
}

const counter = (registry: Registry, labelNames: string[] = []) =>
  new Counter({ name: 'mta_jobs_total', help: 'Jobs done.', labelNames, registers: [registry] });

/** The exposition of these children, merged: the text prom-client renders. */
async function merged(children: Record<string, MetricFamily[]>): Promise<string> {
  const { body } = await renderMerged(
    Object.entries(children).map(([child, families]) => withChildLabel(child, families)),
  );
  return body;
}

const family = (values: MetricFamily['values'], more: Partial<MetricFamily> = {}): MetricFamily => ({
  name: 'mta_x',
  help: 'X.',
  type: 'gauge',
  values,
  ...more,
});

interface MergeCase {
  readonly case: string;
  /** Each child's families, by the child's name. */
  readonly children: Record<string, MetricFamily[]>;
  /** The lines of the exposition. */
  readonly expected: string[];
}

describe('the merged exposition of several children', () => {
  it.each<MergeCase>([
    {
      case: 'a sample without labels gets child only',
      children: { mx: [family([{ value: 3, labels: {} }])] },
      expected: ['# HELP mta_x X.', '# TYPE mta_x gauge', 'mta_x{child="mx"} 3'],
    },
    {
      case: 'a sample with labels keeps them, child last',
      children: { mx: [family([{ value: 1, labels: { service: 'mx', result: 'ok' } }])] },
      expected: ['# HELP mta_x X.', '# TYPE mta_x gauge', 'mta_x{service="mx",result="ok",child="mx"} 1'],
    },
    {
      case: 'a label value with a quote, a backslash and a newline is escaped (HELP too)',
      children: {
        mx: [
          family([{ value: 1, labels: { reason: 'say "no"\\\nnow' } }], { help: 'Back\\slash\nnewline.' }),
        ],
      },
      expected: [
        '# HELP mta_x Back\\\\slash\\nnewline.',
        '# TYPE mta_x gauge',
        'mta_x{reason="say \\"no\\"\\\\\\nnow",child="mx"} 1',
      ],
    },
    {
      case: 'a family two children have is one HELP and one TYPE, then each child’s samples',
      children: {
        'delivery-1': [family([{ value: 1, labels: { service: 'delivery' } }])],
        'delivery-2': [family([{ value: 2, labels: { service: 'delivery' } }])],
      },
      expected: [
        '# HELP mta_x X.',
        '# TYPE mta_x gauge',
        'mta_x{service="delivery",child="delivery-1"} 1',
        'mta_x{service="delivery",child="delivery-2"} 2',
      ],
    },
    {
      case: 'a child label of the child’s own is kept as exported_child',
      children: { queue: [family([{ value: 5, labels: { child: 'inner' } }])] },
      expected: ['# HELP mta_x X.', '# TYPE mta_x gauge', 'mta_x{exported_child="inner",child="queue"} 5'],
    },
    {
      case: 'values JSON cannot carry (NaN, +Inf, -Inf) and a family prom-client would omit from a cluster',
      children: {
        mx: [
          family([
            { value: Number.NaN, labels: { k: 'nan' } },
            { value: Infinity, labels: { k: 'inf' } },
            { value: -Infinity, labels: { k: 'minus' } },
          ]),
          Object.assign(
            family([{ value: 1700000000, labels: {} }], {
              name: 'mta_process_start_time_seconds',
              help: 'Start.',
            }),
            {
              aggregator: 'omit',
            },
          ),
        ],
      },
      expected: [
        '# HELP mta_x X.',
        '# TYPE mta_x gauge',
        'mta_x{k="nan",child="mx"} Nan',
        'mta_x{k="inf",child="mx"} +Inf',
        'mta_x{k="minus",child="mx"} -Inf',
        '',
        '# HELP mta_process_start_time_seconds Start.',
        '# TYPE mta_process_start_time_seconds gauge',
        'mta_process_start_time_seconds{child="mx"} 1700000000',
      ],
    },
    {
      case: 'no child answered: an empty exposition',
      children: {},
      expected: [],
    },
  ])('$case', async ({ children, expected }) => {
    expect(await merged(children)).toBe(`${expected.join('\n')}\n`);
  });

  it('renders a histogram of two workers with its _bucket lines (le), _sum and _count, one HELP and TYPE', async () => {
    const worker = (seconds: number[]) =>
      serviceFamilies('delivery', (registry) => {
        const h = new Histogram({
          name: 'mta_t_seconds',
          help: 'T.',
          buckets: [0.1, 1],
          labelNames: ['kind'],
          registers: [registry],
        });
        for (const s of seconds) h.observe({ kind: 'remote' }, s);
      });
    const text = await merged({ 'delivery-1': await worker([0.05, 2]), 'delivery-2': await worker([0.5]) });
    expect(text).toBe(
      [
        '# HELP mta_t_seconds T.',
        '# TYPE mta_t_seconds histogram',
        'mta_t_seconds_bucket{le="0.1",kind="remote",service="delivery",child="delivery-1"} 1',
        'mta_t_seconds_bucket{le="1",kind="remote",service="delivery",child="delivery-1"} 1',
        'mta_t_seconds_bucket{le="+Inf",kind="remote",service="delivery",child="delivery-1"} 2',
        'mta_t_seconds_sum{kind="remote",service="delivery",child="delivery-1"} 2.05',
        'mta_t_seconds_count{kind="remote",service="delivery",child="delivery-1"} 2',
        'mta_t_seconds_bucket{le="0.1",kind="remote",service="delivery",child="delivery-2"} 0',
        'mta_t_seconds_bucket{le="1",kind="remote",service="delivery",child="delivery-2"} 1',
        'mta_t_seconds_bucket{le="+Inf",kind="remote",service="delivery",child="delivery-2"} 1',
        'mta_t_seconds_sum{kind="remote",service="delivery",child="delivery-2"} 0.5',
        'mta_t_seconds_count{kind="remote",service="delivery",child="delivery-2"} 1',
        '',
      ].join('\n'),
    );
  });

  it('keeps the families of each service under their own names, in the order the children come', async () => {
    const mx = await serviceFamilies('mx', (r) => counter(r, ['result']).inc({ result: 'accepted' }, 2));
    const queue = await serviceFamilies('queue', (r) => {
      counter(r).inc();
      new Gauge({ name: 'mta_queue_recipients', help: 'Unfinished.', registers: [r] }).set(7);
    });
    const text = await merged({ mx, queue });
    expect(text.match(/^# (HELP|TYPE) mta_jobs_total/gm)).toEqual([
      '# HELP mta_jobs_total',
      '# TYPE mta_jobs_total',
    ]);
    expect(text).toContain(
      'mta_jobs_total{result="accepted",service="mx",child="mx"} 2\nmta_jobs_total{service="queue",child="queue"} 1\n',
    );
    expect(text).toContain(
      '# TYPE mta_queue_recipients gauge\nmta_queue_recipients{service="queue",child="queue"} 7\n',
    );
  });
});

describe('isMetricsReply', () => {
  it.each([
    [{ type: 'metrics', id: 1, metrics: [] }, true],
    [
      { type: 'metrics', id: 1, metrics: [family([{ value: 1, labels: {}, metricName: 'mta_x_sum' }])] },
      true,
    ],
    [{ type: 'metrics', id: 1 }, false],
    [{ type: 'metrics', id: '1', metrics: [] }, false],
    [
      {
        type: 'metrics',
        id: 1,
        metrics: [{ name: 'x', help: 'h', type: 'gauge', values: [{ value: null, labels: {} }] }],
      },
      false,
    ],
    [{ type: 'metrics', id: 1, metrics: [{ name: 'x', help: 'h', values: [] }] }, false],
    [{ type: 'listening', httpPort: 3 }, false],
    [null, false],
  ])('%j: %s', (message, ok) => {
    expect(isMetricsReply(message)).toBe(ok);
  });
});
