export { createLogger, type Logger } from './logger';
export { NestPinoLogger } from './nest-logger';
export { Metrics, registeredOnce } from './metrics';
export { Readiness, withTimeout, type ReadinessCheck, type ReadinessReport } from './readiness';
export { Drain, type DrainStep, type DrainFailure } from './drain';
export { HealthController } from './health.controller';
export { ObservabilityModule, LOGGER } from './observability.module';
export { DependencyOutage, Outages, addressOf, causeOf, type OutageLog, type OutageOptions } from './outage';
