/**
 * Renders the kustomize trees with `kubectl kustomize` (no cluster needed) and validates every
 * object against the schemas of kubernetes-models and the CRD models (KEDA, Prometheus
 * Operator, cert-manager).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export const K8S_DIR = path.resolve(__dirname, '..');
export const ROOT = path.resolve(K8S_DIR, '..');

/** A rendered Kubernetes object, as plain data. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** `kubectl` if it runs here; `.ci/run` makes sure it does (tools/kubectl.sh). */
export function kubectlVersion(): string | undefined {
  try {
    return execFileSync('kubectl', ['version', '--client'], { encoding: 'utf8', stdio: 'pipe' });
  } catch {
    return undefined;
  }
}

/** Renders one kustomization directory (relative to k8s/) into its objects. */
export function render(dir: string): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', path.join(K8S_DIR, dir)], {
    encoding: 'utf8',
    stdio: 'pipe',
    maxBuffer: 64 * 1024 * 1024,
  });
  return parseAllDocuments(out).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${dir}: ${doc.errors[0]?.message}`);
    return unwrapSecretData(doc.toJS() as K8sObject);
  });
}

/**
 * kustomize folds long base64 values of a Secret over several lines; the API server's base64
 * decoder skips the line breaks, the schema's `byte` format does not. Join them as the server does.
 */
function unwrapSecretData(object: K8sObject): K8sObject {
  const data = object['data'];
  if (object.kind !== 'Secret' || typeof data !== 'object' || data === null) return object;
  const joined = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, String(v).replace(/\s+/g, '')]));
  return { ...object, data: joined };
}

/** Renders the base with the given components (paths relative to k8s/), as an overlay would. */
export function renderWith(components: string[], resources = ['base']): K8sObject[] {
  // kustomize takes only relative paths; the temporary overlay points back into k8s/.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mta-k8s-'));
  try {
    const rel = (p: string) => path.relative(dir, path.join(K8S_DIR, p));
    writeFileSync(
      path.join(dir, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        `resources: [${resources.map(rel).join(', ')}]`,
        `components: [${components.map(rel).join(', ')}]`,
        '',
      ].join('\n'),
    );
    return render(path.relative(K8S_DIR, dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type ModelClass = new (data: object) => { validate(): void };
const MODELS: Record<string, () => Promise<Record<string, unknown>>> = {
  v1: () => import('kubernetes-models/v1'),
  'apps/v1': () => import('kubernetes-models/apps/v1'),
  'batch/v1': () => import('kubernetes-models/batch/v1'),
  'policy/v1': () => import('kubernetes-models/policy/v1'),
  'networking.k8s.io/v1': () => import('kubernetes-models/networking.k8s.io/v1'),
  'autoscaling/v2': () => import('kubernetes-models/autoscaling/v2'),
  'keda.sh/v1alpha1': () => import('@kubernetes-models/keda/keda.sh/v1alpha1'),
  'monitoring.coreos.com/v1': () => import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'),
  'cert-manager.io/v1': () => import('@kubernetes-models/cert-manager/cert-manager.io/v1'),
};

/** Throws naming the object and the schema error; an object of a kind without a schema is an error too. */
export async function validate(object: K8sObject): Promise<void> {
  const load = MODELS[object.apiVersion];
  const Model = (load ? await load() : {})[object.kind] as ModelClass | undefined;
  if (!Model) throw new Error(`${object.kind} ${object.metadata.name}: no schema for ${object.apiVersion}`);
  try {
    new Model(object).validate();
  } catch (error) {
    throw new Error(
      `${object.kind} ${object.metadata.name}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
