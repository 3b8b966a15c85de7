/**
 * What the overlays and components promise: delivery scales on a queue depth the code really
 * exports, the dashboard plots series that exist, dev runs its own durable PostgreSQL and Redis,
 * production runs two or more of everything, the network is closed but for SMTP, and
 * docker-compose.yml sets what the manifests set.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { variables } from '@mta/config';
import { Metrics } from '@mta/observability';
import { QUEUE_JOB_STATES, QUEUE_JOBS_METRIC, QueueName } from '@mta/queue';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { containerEnv, mainOf, mtaWorkloads, named, ofKind, workloadNamed, workloads } from './objects';
import { K8S_DIR, ROOT } from './render';
import { composeConfig, HAVE_KUBECTL, tree } from './trees';

/** Every `mta_*` series the code registers: names in the libraries' sources, and Node's defaults. */
async function codeMetrics(): Promise<Set<string>> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const file = path.join(dir, entry);
      if (statSync(file).isDirectory()) {
        if (!['node_modules', 'generated', 'test', 'testing'].includes(entry)) walk(file);
      } else if (file.endsWith('.ts') && !file.endsWith('.spec.ts')) {
        for (const m of readFileSync(file, 'utf8').matchAll(/'(mta_[a-z0-9_]+)'/g)) names.add(m[1] as string);
      }
    }
  };
  walk(path.join(ROOT, 'libs'));
  for (const m of await new Metrics('k8s-check').registry.getMetricsAsJSON()) names.add(m.name);
  for (const name of [...names]) for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
  return names;
}

type ScaleTarget = { spec: { scaleTargetRef: { apiVersion?: string; kind?: string; name: string } } };
type KedaScaledObject = ScaleTarget & {
  spec: {
    minReplicaCount: number;
    triggers: { type: string; metadata: Record<string, string>; authenticationRef?: { name: string } }[];
  };
};
type Hpa = ScaleTarget & {
  spec: {
    minReplicas: number;
    metrics: {
      type: string;
      external?: { metric: { name: string; selector: { matchLabels: Record<string, string> } } };
    }[];
  };
};

describe.skipIf(!HAVE_KUBECTL)('delivery autoscaling', () => {
  it('KEDA scales the delivery Deployment on the Redis list where BullMQ keeps waiting delivery jobs', () => {
    const objects = tree('base + components/keda');
    const [scaler, ...more] = ofKind<KedaScaledObject>(objects, 'ScaledObject');
    expect(more).toEqual([]);
    expect(scaler?.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'mta-delivery',
    });
    const delivery = workloadNamed(objects, 'mta-delivery');
    expect(delivery.replicas, 'the scaler owns the replica count').toBeUndefined();
    expect(scaler?.spec.minReplicaCount).toBeGreaterThanOrEqual(2);
    const prefix = containerEnv(objects, mainOf(delivery)).env['REDIS_PREFIX'];
    const [trigger] = scaler?.spec.triggers ?? [];
    expect(trigger?.type).toBe('redis');
    // BullMQ's list of waiting jobs: libs/queue/src/queue-metrics.int.spec.ts checks it on a real Redis.
    expect(trigger?.metadata['listName']).toBe(`${prefix}:${QueueName.Delivery}:wait`);
    const auth = named(
      ofKind<{ spec: { secretTargetRef: { parameter: string; name: string }[] } }>(
        objects,
        'TriggerAuthentication',
      ),
      trigger?.authenticationRef?.name ?? '',
    );
    expect(auth.spec.secretTargetRef.map((r) => [r.parameter, r.name])).toEqual([['address', 'mta-secrets']]);
  });

  it('the plain HPA scales the delivery Deployment on a queue metric the code exports', async () => {
    const objects = tree('base + components/hpa');
    const [hpa] = ofKind<Hpa>(objects, 'HorizontalPodAutoscaler');
    expect(hpa?.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'mta-delivery',
    });
    expect(workloadNamed(objects, 'mta-delivery').replicas).toBeUndefined();
    expect(hpa?.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const metric = hpa?.spec.metrics[0]?.external?.metric;
    expect(metric?.name).toBe(QUEUE_JOBS_METRIC);
    expect((await codeMetrics()).has(metric?.name ?? '')).toBe(true);
    expect(metric?.selector.matchLabels).toEqual({ queue: QueueName.Delivery, state: 'waiting' });
    expect(QUEUE_JOB_STATES).toContain(metric?.selector.matchLabels['state']);
  });
});

describe.skipIf(!HAVE_KUBECTL)('monitoring', () => {
  it('scrapes the metrics port of every MTA pod', () => {
    const objects = tree('base + components/monitoring');
    const [monitor] = ofKind<{
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
    }>(objects, 'ServiceMonitor');
    const service = ofKind<{
      metadata: { labels: Record<string, string> };
      spec: { selector: Record<string, string>; ports: { name: string }[] };
    }>(objects, 'Service').find((s) =>
      Object.entries(monitor?.spec.selector.matchLabels ?? { none: '' }).every(
        ([k, v]) => s.metadata.labels[k] === v,
      ),
    );
    expect(service?.spec.ports.map((p) => p.name)).toContain(monitor?.spec.endpoints[0]?.port);
    const scraped = mtaWorkloads(objects).filter((w) =>
      Object.entries(service?.spec.selector ?? {}).every(([k, v]) => w.labels[k] === v),
    );
    expect(scraped.map((w) => w.component).sort()).toEqual([
      'admin-api',
      'delivery',
      'mx',
      'policy',
      'queue',
      'submission',
    ]);
  });

  it('plots only series the code exports, including every panel the operator needs', async () => {
    const dashboard = JSON.parse(
      readFileSync(path.join(K8S_DIR, 'components/monitoring/mta-dashboard.json'), 'utf8'),
    ) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const known = await codeMetrics();
    const used = dashboard.panels.flatMap((p) =>
      p.targets.flatMap((t) => [...t.expr.matchAll(/\bmta_[a-z0-9_]+/g)].map((m) => m[0])),
    );
    expect(used.filter((name) => !known.has(name))).toEqual([]);
    for (const series of [
      'mta_intake_transactions_total',
      'mta_intake_store_seconds_bucket',
      QUEUE_JOBS_METRIC,
      'mta_queue_recipients',
      'mta_delivery_recipients_total',
      'mta_delivery_deferrals_total',
      'mta_delivery_tls_recipients_total',
      'mta_intake_tls_messages_total',
    ])
      expect(used).toContain(series);
    const generated = named(
      ofKind<{ data: Record<string, string> }>(tree('base + components/monitoring'), 'ConfigMap'),
      'mta-grafana-dashboard',
    );
    expect(JSON.parse(generated.data['mta-dashboard.json'] ?? '{}')).toEqual(dashboard);
  });
});

describe.skipIf(!HAVE_KUBECTL)('overlays', () => {
  it('dev runs PostgreSQL and Redis in the cluster on volumes, Redis with AOF and noeviction, one replica each', () => {
    const objects = tree('overlays/dev');
    const sets = workloads(objects).filter((w) => w.kind === 'StatefulSet');
    expect(sets.map((s) => s.name).sort()).toEqual(['postgres', 'redis']);
    for (const name of ['postgres', 'redis']) {
      const set = ofKind<{ spec: { volumeClaimTemplates: { metadata: { name: string } }[] } }>(
        objects,
        'StatefulSet',
      ).find((s) => s.metadata.name === name);
      const mount = workloadNamed(objects, name).pod.containers[0]?.volumeMounts?.find(
        (m) => m.name === 'data',
      );
      expect(set?.spec.volumeClaimTemplates.map((t) => t.metadata.name)).toContain(mount?.name);
    }
    const args = workloadNamed(objects, 'redis').pod.containers[0]?.args?.join(' ');
    expect(args).toMatch(/--appendonly yes\b/);
    expect(args).toMatch(/--maxmemory-policy noeviction\b/);
    for (const w of mtaWorkloads(objects).filter((x) => x.kind === 'Deployment'))
      expect(w.replicas, w.name).toBe(1);
    // The URLs in the generated Secret point at the in-cluster Services.
    const env = containerEnv(objects, mainOf(workloadNamed(objects, 'mta-queue'))).env;
    const services = ofKind<{ spec: { ports: { port: number }[] } }>(objects, 'Service');
    for (const url of [env['DATABASE_URL'], env['REDIS_URL']].map((u) => new URL(u ?? ''))) {
      expect(named(services, url.hostname).spec.ports.map((p) => p.port)).toContain(Number(url.port));
    }
  });

  it('production uses external PostgreSQL and Redis, runs two or more of everything, and autoscales delivery', () => {
    const objects = tree('overlays/production');
    expect(workloads(objects).filter((w) => w.kind === 'StatefulSet')).toEqual([]);
    expect(ofKind(objects, 'Secret'), 'the Secret is the operator’s').toEqual([]);
    const minimum = new Map(
      ofKind<KedaScaledObject>(objects, 'ScaledObject').map((s) => [
        s.spec.scaleTargetRef.name,
        s.spec.minReplicaCount,
      ]),
    );
    expect([...minimum.keys()]).toEqual(['mta-delivery']);
    for (const w of mtaWorkloads(objects).filter((x) => x.kind === 'Deployment'))
      expect(w.replicas ?? minimum.get(w.name), w.name).toBeGreaterThanOrEqual(2);
    expect(ofKind(objects, 'NetworkPolicy').length).toBeGreaterThan(0);
    const images = new Set(mtaWorkloads(objects).flatMap((w) => w.pod.containers.map((c) => c.image)));
    expect([...images]).toEqual([expect.stringMatching(/^[^:]+\/mta:\d+\.\d+\.\d+$/)]);
  });
});

describe.skipIf(!HAVE_KUBECTL)('network policies', () => {
  type Policy = {
    spec: {
      podSelector: {
        matchLabels?: Record<string, string>;
        matchExpressions?: { key: string; values: string[] }[];
      };
      policyTypes: string[];
      ingress?: {
        from?: { namespaceSelector?: object; podSelector?: { matchLabels: Record<string, string> } }[];
        ports: { port: string | number }[];
      }[];
    };
  };
  const policies = () => ofKind<Policy>(tree('base + components/network-policies'), 'NetworkPolicy');

  it('denies all ingress but what a policy allows, and lets only SMTP in from anywhere', () => {
    const deny = policies().find((p) => Object.keys(p.spec.podSelector).length === 0);
    expect(deny?.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress'] });
    const open = policies().flatMap((p) =>
      (p.spec.ingress ?? []).filter((rule) => !rule.from).map((rule) => ({ p, rule })),
    );
    expect(open).toHaveLength(1);
    expect(open[0]?.p.spec.podSelector.matchExpressions?.[0]?.values).toEqual(['mx', 'submission']);
    expect(open[0]?.rule.ports.map((x) => x.port).sort()).toEqual(['smtp', 'submission', 'submissions']);
  });

  it('lets the admin API be reached only from labelled namespaces, and the datastores only from MTA pods', () => {
    const admin = named(policies(), 'mta-admin-api');
    expect(admin.spec.ingress?.[0]?.from).toEqual([
      { namespaceSelector: { matchLabels: { 'mta.example.org/admin-api': 'allow' } } },
    ]);
    const stores = named(policies(), 'mta-datastores');
    expect(stores.spec.podSelector.matchExpressions?.[0]?.values).toEqual(['postgres', 'redis']);
    expect(stores.spec.ingress?.[0]?.from).toEqual([
      { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'mta' } } },
    ]);
  });
});

describe.skipIf(!HAVE_KUBECTL)('docker-compose.yml', () => {
  it('sets, per service, variables the manifests set too, with the same fixed values', () => {
    const compose = parse(composeConfig()) as {
      services: Record<string, { image: string; command?: string[]; environment?: Record<string, string> }>;
    };
    const objects = tree('overlays/production');
    const fixed = ['NODE_ENV', 'TLS_CERT_FILE', 'TLS_KEY_FILE'];
    const SECRET = new Set(
      Object.entries(variables)
        .filter(([, v]) => v.secret)
        .map(([n]) => n),
    );
    for (const [name, service] of Object.entries(compose.services)) {
      if (!service.image.startsWith('mta:')) continue; // redis, postgres
      const command = service.command?.[0];
      const workload = mtaWorkloads(objects).find((w) =>
        command === 'migrate' ? w.kind === 'Job' : w.component === command,
      );
      if (!workload) throw new Error(`compose service ${name} runs ${command}, which no manifest runs`);
      const manifest = containerEnv(objects, mainOf(workload)).env;
      const composeEnv = service.environment ?? {};
      for (const variable of Object.keys(composeEnv)) {
        expect(Object.keys(variables), `${name}: ${variable}`).toContain(variable);
        expect(manifest[variable], `${name}: ${variable} is set in the manifests too`).toBeDefined();
      }
      for (const variable of Object.keys(manifest).filter((v) => SECRET.has(v)))
        expect(composeEnv[variable], `${name}: secret ${variable}`).toBeDefined();
      for (const variable of fixed)
        expect(composeEnv[variable], `${name}: ${variable}`).toBe(manifest[variable]);
    }
  });
});

describe('the image (Dockerfile)', () => {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

  it('runs Node 24 with production dependencies only, as a numeric non-root user, under tini', () => {
    expect(runtime).toMatch(/^\nFROM node:24[-\w.]* AS runtime/);
    expect(runtime).toMatch(/npm ci --omit=dev/);
    expect(runtime).toMatch(/apt-get install [^\n]*\btini\b/);
    expect(runtime).toMatch(
      /^ENTRYPOINT \["\/usr\/bin\/tini", "--", "\/app\/tools\/docker-entrypoint\.sh"\]$/m,
    );
    const user = /^USER (\d+):(\d+)$/m.exec(runtime);
    expect(Number(user?.[1])).toBeGreaterThan(0);
    if (HAVE_KUBECTL)
      for (const w of mtaWorkloads(tree('base')))
        expect(w.pod.securityContext?.runAsUser, w.name).toBe(Number(user?.[1]));
  });

  it('declares a volume for every path the MTA writes: the Maildir of local delivery and /tmp', () => {
    const volumes = JSON.parse(/^VOLUME (\[.*\])$/m.exec(runtime)?.[1] ?? '[]') as string[];
    const maildir = /^maildir:(.+)$/.exec(variables.LOCAL_DELIVERY.defaults.production)?.[1];
    expect(volumes).toEqual(expect.arrayContaining([maildir, '/tmp']));
  });

  it('execs each app from its entrypoint, so the signals reach node', () => {
    const script = readFileSync(path.join(ROOT, 'tools/docker-entrypoint.sh'), 'utf8');
    const runs = script.split('\n').filter((l) => /\bnode\b/.test(l) && !l.trim().startsWith('#'));
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const line of runs) expect(line).toMatch(/\bexec node\b/);
  });
});
