import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { HealthController } from './health.controller';
import { Metrics } from './metrics';
import { Readiness } from './readiness';

/** Injection token of the process's pino logger. */
export const LOGGER = Symbol('LOGGER');

/** Provides the logger, the metrics registry and the readiness checks, and serves them over HTTP. */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(options: { logger: Logger; metrics: Metrics; readiness?: Readiness }): DynamicModule {
    return {
      module: ObservabilityModule,
      controllers: [HealthController],
      providers: [
        { provide: LOGGER, useValue: options.logger },
        { provide: Metrics, useValue: options.metrics },
        { provide: Readiness, useValue: options.readiness ?? new Readiness() },
      ],
      exports: [LOGGER, Metrics, Readiness],
    };
  }
}
