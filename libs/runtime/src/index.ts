export { bootstrapService, runService, type ServiceOptions } from './bootstrap';
export { CoreModule } from './core.module';
export { ConfigModule, APP_CONFIG } from './config.module';
export { SERVICE_NAMES, type ServiceName } from './service-name';
export { exitOnShutdownSignals, SHUTDOWN_TIMEOUT_MS, type ShutdownOptions } from './shutdown';
