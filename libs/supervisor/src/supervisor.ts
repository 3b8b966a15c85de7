import type { BackoffOptions } from './backoff';
import { Child, type ChildSpec, type ChildStatus } from './child';
import type { SupervisorLog } from './log';
import { renderMerged, withChildLabel, type MetricFamily } from './metrics';

export interface SupervisorOptions {
  readonly log: SupervisorLog;
  readonly backoff?: BackoffOptions;
  /**
   * How long the children have to exit after the signal before they get SIGKILL (ms). Default
   * 30 000: a service exits within 25 s of SIGTERM (SHUTDOWN_TIMEOUT_MS in libs/runtime), plus a margin.
   */
  readonly graceMs?: number;
  /** How long one child's `/readyz` may take to answer (ms). Default 2 000. */
  readonly readyTimeoutMs?: number;
  /** How long one child may take to answer with its metrics (ms); a slower one is left out. Default 2 000. */
  readonly metricsTimeoutMs?: number;
}

export interface SupervisorReadiness {
  ready: boolean;
  /** One entry per child, by name (the shape of a service's own `/readyz`). */
  checks: Record<string, ChildStatus>;
}

export const DEFAULT_GRACE_MS = 30_000;

/** Runs a set of children, like Postfix's master: keeps them running, answers for them, stops them. */
export class Supervisor {
  private readonly children: Child[];
  private stopped?: Promise<number>;

  constructor(
    specs: readonly ChildSpec[],
    private readonly options: SupervisorOptions,
  ) {
    const names = new Set(specs.map((s) => s.name));
    if (names.size !== specs.length) throw new Error('every child needs a name of its own');
    this.children = specs.map((spec) => new Child(spec, options.log, options.backoff));
  }

  start(): void {
    for (const c of this.children) c.start();
  }

  /** The child of that name. */
  child(name: string): Child | undefined {
    return this.children.find((c) => c.spec.name === name);
  }

  get stopping(): boolean {
    return this.stopped !== undefined;
  }

  /** Ready when every child's own `/readyz` is; each entry says why a child is not. */
  async readiness(): Promise<SupervisorReadiness> {
    if (this.stopping) return { ready: false, checks: { draining: { ok: false, error: 'shutting down' } } };
    const timeoutMs = this.options.readyTimeoutMs ?? 2_000;
    const entries = await Promise.all(
      this.children.map(async (c) => [c.spec.name, await c.status(timeoutMs)] as const),
    );
    return { ready: entries.every(([, s]) => s.ok), checks: Object.fromEntries(entries) };
  }

  /**
   * Every serving child's metrics, each sample labelled `child="<name>"`, and the supervisor's
   * own (`mta_supervisor_*`), as one Prometheus text exposition. The children are asked at the
   * same time; one that does not answer within `metricsTimeoutMs` is left out and counted in
   * `mta_supervisor_scrape_errors_total`.
   */
  async metrics(): Promise<{ contentType: string; body: string }> {
    const timeoutMs = this.options.metricsTimeoutMs ?? 2_000;
    const scraped = await Promise.all(
      this.children.map(async (c) => {
        const families = await c.metrics(timeoutMs);
        return families && withChildLabel(c.spec.name, families);
      }),
    );
    return renderMerged([...scraped.filter((f) => f !== undefined), this.ownMetrics()]);
  }

  /** The supervisor's own families, one sample per child. */
  private ownMetrics(): MetricFamily[] {
    const perChild = (name: string, help: string, type: string, value: (c: Child) => number): MetricFamily => ({
      name,
      help,
      type,
      values: this.children.map((c) => ({ value: value(c), labels: { child: c.spec.name } })),
    });
    return [
      perChild('mta_supervisor_child_up', 'Whether the child runs and serves HTTP (1) or not (0: starting, restarting, stopped).', 'gauge', (c) => (c.serving ? 1 : 0)),
      perChild('mta_supervisor_restarts_total', 'How often the child was started again after it exited unexpectedly.', 'counter', (c) => c.restarts),
      perChild('mta_supervisor_scrape_errors_total', 'Scrapes of /metrics that left the child out: it serves but did not send its metrics in time.', 'counter', (c) => c.scrapeErrors),
    ];
  }

  /**
   * Stops every child: no more restarts, `signal` to each (each drains, libs/runtime's
   * shutdown), SIGKILL to any still running after the grace period. Resolves with 0 when every
   * child exited 0, else 1. Calling it again returns the same promise.
   */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
    this.stopped ??= this.stopAll(signal);
    return this.stopped;
  }

  private async stopAll(signal: NodeJS.Signals): Promise<number> {
    const graceMs = this.options.graceMs ?? DEFAULT_GRACE_MS;
    this.options.log.info({ signal, children: this.children.length, graceMs }, 'stopping every child');
    const deadline = setTimeout(() => {
      for (const c of this.children.filter((c) => c.pid !== undefined)) {
        this.options.log.error({ child: c.spec.name, pid: c.pid, graceMs }, `${c.spec.name} did not exit in time: SIGKILL`);
        c.kill();
      }
    }, graceMs);
    await Promise.all(this.children.map((c) => c.stop(signal)));
    clearTimeout(deadline);
    return this.children.every((c) => c.exitedCleanly) ? 0 : 1;
  }
}
