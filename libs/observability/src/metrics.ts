import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The series `name` of `registry`, made by `create` the first time: two instances of a module on
 * one registry (tests, all-in-one in one process) share their series instead of failing.
 */
export function registeredOnce<T>(registry: Registry, name: string, create: (name: string) => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create(name);
}

/**
 * One Prometheus registry per process, with Node's default metrics and a `service` label
 * on every series. Modules register their own counters on `registry`.
 */
export class Metrics {
  readonly registry = new Registry();

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry, prefix: 'mta_' });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
