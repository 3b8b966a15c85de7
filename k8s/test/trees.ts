/** Every tree a user can apply: the overlays, and each component on the base. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { kubectlVersion, render, renderWith, ROOT, type K8sObject } from './render';

export const COMPONENTS = ['proxy-protocol', 'cert-manager', 'keda', 'hpa', 'monitoring', 'network-policies'];

export const TREES: Record<string, () => K8sObject[]> = {
  'overlays/dev': () => render('overlays/dev'),
  'overlays/production': () => render('overlays/production'),
  'overlays/production with cert-manager, monitoring and proxy-protocol': () =>
    renderWith(
      ['components/cert-manager', 'components/monitoring', 'components/proxy-protocol'],
      ['overlays/production'],
    ),
  base: () => render('base'),
  ...Object.fromEntries(
    COMPONENTS.map((c) => [`base + components/${c}`, () => renderWith([`components/${c}`])]),
  ),
};

const cache = new Map<string, K8sObject[]>();
export function tree(name: string): K8sObject[] {
  let objects = cache.get(name);
  if (!objects) {
    const make = TREES[name];
    if (!make) throw new Error(`no tree ${name}`);
    objects = make();
    cache.set(name, objects);
  }
  return objects;
}

/**
 * Whether the checks can run: kubectl renders the trees. Under CI a missing kubectl is a
 * failure (.ci/run puts it on PATH with tools/kubectl.sh), elsewhere the checks are skipped.
 */
export const HAVE_KUBECTL = kubectlVersion() !== undefined;
export const MUST_RUN = process.env['CI'] === 'true';

/** The apps tools/docker-entrypoint.sh starts (its `case` list), and `migrate`. */
export function entrypointCommands(): string[] {
  const script = readFileSync(path.join(ROOT, 'tools/docker-entrypoint.sh'), 'utf8');
  const apps = /^\s*([a-z|-]+)\)\s*\n?\s*app=\$1/m.exec(script)?.[1]?.split('|') ?? [];
  return [...apps, ...(/^\s*migrate\)/m.test(script) ? ['migrate'] : [])];
}

/** `docker-compose config` of the repository's compose file, as data. */
export function composeConfig(): string {
  return execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
    cwd: ROOT,
    env: { ...process.env, ADMIN_TOKEN: 'x'.repeat(32) },
    encoding: 'utf8',
  });
}
