/** Typed views of the rendered objects, and the environment a container will see. */
import type { IContainer, IPodSpec } from 'kubernetes-models/v1';
import type { K8sObject } from './render';

export interface Workload {
  kind: string;
  name: string;
  /** `app.kubernetes.io/component` of the pods. */
  component: string;
  labels: Record<string, string>;
  replicas?: number;
  pod: IPodSpec;
}

interface PodTemplateOwner {
  spec: { replicas?: number; template: { metadata?: { labels?: Record<string, string> }; spec: IPodSpec } };
}

function hasPodTemplate(o: K8sObject): o is K8sObject & PodTemplateOwner {
  return ['Deployment', 'StatefulSet', 'Job'].includes(o.kind);
}

/** Deployments, StatefulSets and Jobs, with their pod template. */
export function workloads(objects: K8sObject[]): Workload[] {
  return objects.filter(hasPodTemplate).map((o) => {
    const labels = o.spec.template.metadata?.labels ?? {};
    return {
      kind: o.kind,
      name: o.metadata.name,
      component: labels['app.kubernetes.io/component'] ?? '',
      labels,
      replicas: o.spec.replicas,
      pod: o.spec.template.spec,
    };
  });
}

/** The MTA's own workloads (label app.kubernetes.io/name=mta). */
export function mtaWorkloads(objects: K8sObject[]): Workload[] {
  return workloads(objects).filter((w) => w.labels['app.kubernetes.io/name'] === 'mta');
}

export function workloadNamed(objects: K8sObject[], name: string): Workload {
  const found = workloads(objects).find((w) => w.name === name);
  if (!found) throw new Error(`no workload ${name}`);
  return found;
}

/** The first (main) container of a workload. */
export function mainOf(w: Workload): IContainer {
  const [main] = w.pod.containers;
  if (!main) throw new Error(`${w.name}: no container`);
  return main;
}

export function allContainers(pod: IPodSpec): IContainer[] {
  return [...(pod.initContainers ?? []), ...pod.containers];
}

export function ofKind<T>(objects: K8sObject[], kind: string): (K8sObject & T)[] {
  return objects.filter((o): o is K8sObject & T => o.kind === kind);
}

export function named<T extends K8sObject>(objects: T[], name: string): T {
  const found = objects.find((o) => o.metadata.name === name);
  if (!found) throw new Error(`no ${name} among ${objects.map((o) => o.metadata.name).join(', ')}`);
  return found;
}

/** Values the external Secret is expected to hold (only their form matters here). */
export const SECRET_SAMPLES: Record<string, string> = {
  DATABASE_URL: 'postgresql://mta:secret@db.example.internal:5432/mta',
  REDIS_URL: 'redis://:secret@redis.example.internal:6379',
  ADMIN_TOKEN: 'an-admin-token-of-more-than-24-characters',
  WEBHOOK_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
};

/**
 * The environment a container gets: its ConfigMaps (envFrom) and its `env`, secrets taken from a
 * rendered Secret when there is one (overlays/dev), else from SECRET_SAMPLES. `names` lists every
 * variable the manifests set, wherever from.
 */
export function containerEnv(
  objects: K8sObject[],
  container: IContainer,
): { env: Record<string, string>; names: string[] } {
  const env: Record<string, string> = {};
  const configMaps = ofKind<{ data?: Record<string, string> }>(objects, 'ConfigMap');
  const secrets = ofKind<{ data?: Record<string, string>; stringData?: Record<string, string> }>(
    objects,
    'Secret',
  );
  for (const from of container.envFrom ?? []) {
    if (!from.configMapRef) throw new Error(`${container.name}: envFrom other than a ConfigMap`);
    Object.assign(env, named(configMaps, from.configMapRef.name ?? '').data ?? {});
  }
  for (const v of container.env ?? []) {
    const ref = v.valueFrom?.secretKeyRef;
    if (v.value !== undefined) env[v.name] = v.value;
    else if (ref) {
      const secret = secrets.find((s) => s.metadata.name === ref.name);
      const encoded = secret?.data?.[ref.key];
      const value =
        encoded !== undefined ? Buffer.from(encoded, 'base64').toString('utf8') : SECRET_SAMPLES[ref.key];
      if (value === undefined)
        throw new Error(`${container.name}: ${v.name} from a secret key nobody provides`);
      env[v.name] = value;
    } else throw new Error(`${container.name}: ${v.name} has neither a value nor a secret reference`);
  }
  return { env, names: Object.keys(env) };
}
