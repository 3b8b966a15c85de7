import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { HealthController } from './health.controller';
import { Metrics } from './metrics';
import { Drain } from './drain';
import { METRICS_TOKEN } from './metrics-token';
import { Readiness } from './readiness';

/** Injection token of the process's pino logger. */
export const LOGGER = Symbol('LOGGER');

/**
 * Provides the logger, the metrics registry, the readiness checks and the shutdown's drain
 * (draining turns readiness false), and serves health, readiness and metrics over HTTP.
 */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(options: {
    logger: Logger;
    metrics: Metrics;
    readiness?: Readiness;
    /** `/metrics` answers only with `Authorization: Bearer <this>` (METRICS_TOKEN); unset: open. */
    metricsToken?: string;
  }): DynamicModule {
    const readiness = options.readiness ?? new Readiness();
    const drain = new Drain();
    drain.onStart(() => readiness.markDraining());
    return {
      module: ObservabilityModule,
      controllers: [HealthController],
      providers: [
        { provide: LOGGER, useValue: options.logger },
        { provide: Metrics, useValue: options.metrics },
        { provide: Readiness, useValue: readiness },
        { provide: Drain, useValue: drain },
        { provide: METRICS_TOKEN, useValue: options.metricsToken ?? null },
      ],
      exports: [LOGGER, Metrics, Readiness, Drain],
    };
  }
}
