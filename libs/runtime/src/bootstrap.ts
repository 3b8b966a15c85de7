import 'reflect-metadata';
import type { Server } from 'node:http';
import { Module, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ConfigError, formatListenAddress, loadConfig, type AppConfig } from '@mta/config';
import { Drain, Metrics, NestPinoLogger, Outages, createLogger } from '@mta/observability';
import { answerMetricsRequests, type ListeningMessage } from '@mta/supervisor';
import { CoreModule } from './core.module';
import { securityHeaders } from './http-headers';
import { exitOnShutdownSignals } from './shutdown';
import type { ServiceName } from './service-name';

export interface ServiceOptions {
  service: ServiceName;
  /** The feature modules this process runs: one for a service, all six for all-in-one. */
  modules: Type[];
  /** Which listen address serves HTTP (the API, or only health and metrics). */
  httpListen: 'ADMIN_LISTEN' | 'HEALTH_LISTEN';
  /** Defaults to process.env; tests pass their own. */
  env?: NodeJS.ProcessEnv;
  /** Shut down gracefully on SIGTERM/SIGINT and exit (shutdown.ts). Default true. */
  handleSignals?: boolean;
}

/**
 * Starts one service: validates the configuration (throws ConfigError), composes the core
 * module with the service's feature modules, and serves HTTP. Returns the running app.
 */
export async function bootstrapService(options: ServiceOptions): Promise<INestApplication> {
  const config = loadServiceConfig(options);
  const outages = new Outages();
  const serviceLogger = createLogger(options.service, config.LOG_LEVEL, undefined, outages);
  // Under all-in-one's supervisor: which of its children this is (delivery-1, delivery-2 ...).
  const logger = config.ALL_IN_ONE_CHILD ? serviceLogger.child({ child: config.ALL_IN_ONE_CHILD }) : serviceLogger;
  const metrics = new Metrics(options.service);

  @Module({ imports: [CoreModule.forRoot({ config, logger, metrics, outages }), ...options.modules] })
  class ServiceModule {}

  const app = await NestFactory.create<NestExpressApplication>(ServiceModule, {
    logger: new NestPinoLogger(logger),
    abortOnError: false,
  });
  app.disable('x-powered-by');
  app.use(securityHeaders);
  // Our own signal handling (shutdown.ts): drain first (readiness 503, no new work, open work
  // finishes), then close; bounded, and the process exits 0 when it is clean.
  if (options.handleSignals ?? true) {
    const drain = app.get(Drain);
    exitOnShutdownSignals(app, logger, { drain: () => drain.run() });
  }
  const listen = config[options.httpListen];
  await app.listen(listen.port, listen.host);
  logger.info(
    { modules: options.modules.map((m) => m.name), http: formatListenAddress(listen) },
    `${options.service} started`,
  );
  return app;
}

/** The HTTP listen setting this service does not serve (HEALTH_LISTEN for the API's). */
const unusedHttpListen = (options: ServiceOptions) =>
  options.httpListen === 'ADMIN_LISTEN' ? 'HEALTH_LISTEN' : 'ADMIN_LISTEN';

/**
 * The configuration, without the HTTP listen address nothing listens on here: all-in-one and
 * admin-api serve health on ADMIN_LISTEN, so HEALTH_LISTEN is neither read nor checked there
 * (and ADMIN_LISTEN not by the services without the API).
 */
function loadServiceConfig(options: ServiceOptions): AppConfig {
  const env = { ...(options.env ?? process.env) };
  delete env[unusedHttpListen(options)];
  return loadConfig(env);
}

/** The `*_LISTEN` settings this service uses, as `host:port` (what `npm start` prints). */
function listenAddresses(config: AppConfig, options: ServiceOptions): Record<string, string> {
  const names = ['MX_LISTEN', 'SUBMISSION_LISTEN', 'SUBMISSIONS_LISTEN', 'ADMIN_LISTEN', 'HEALTH_LISTEN'] as const;
  return Object.fromEntries(
    names.filter((name) => name !== unusedHttpListen(options)).map((name) => [name, formatListenAddress(config[name])]),
  );
}

/**
 * The entry point of every app's main.ts. A bad configuration stops the process with exit
 * code 1 and one line per bad variable; any other start-up failure is logged and exits 1.
 * With `--check-config` it only validates the configuration (like `postfix check`); with
 * `--check-config --json` it prints the listen addresses as JSON (for `npm start`).
 */
export async function runService(options: ServiceOptions): Promise<void> {
  try {
    if (process.argv.includes('--check-config')) {
      const config = loadServiceConfig(options);
      process.stdout.write(
        process.argv.includes('--json')
          ? `${JSON.stringify({ service: options.service, listen: listenAddresses(config, options) })}\n`
          : `${options.service}: configuration ok\n`,
      );
      return;
    }
    answerToSupervisor(await bootstrapService(options));
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems)
        process.stderr.write(`${options.service}: configuration error: ${problem}\n`);
    } else {
      process.stderr.write(
        `${options.service}: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
      );
    }
    process.exit(1);
  }
}

/**
 * Under all-in-one's supervisor (libs/supervisor), which keeps an IPC channel open to each
 * child: tells it where HTTP listens (it gave `127.0.0.1:0`, the kernel picked the port);
 * answers its requests for this process's metrics (its `/metrics` shows every child's); and
 * when the supervisor is gone (killed, even by SIGKILL), the channel closes and this process
 * drains and exits as on SIGTERM, instead of holding its ports with nobody to stop it.
 */
function answerToSupervisor(app: INestApplication): void {
  if (!process.channel || !process.send) return;
  const server: Server = app.getHttpServer();
  const address = server.address();
  const message: ListeningMessage = { type: 'listening', httpPort: typeof address === 'object' && address ? address.port : 0 };
  answerMetricsRequests(app.get(Metrics).registry);
  process.send(message);
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
