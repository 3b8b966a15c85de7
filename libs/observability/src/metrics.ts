import { Registry, collectDefaultMetrics } from 'prom-client';

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
