import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, formatListenAddress, loadConfig, type AppConfig } from '@mta/config';
import { createLogger } from '@mta/observability';
import { Supervisor, exitWithChildrenOnSignals, serveFront, type ChildSpec } from '@mta/supervisor';

/** The services all-in-one runs one process each of (delivery: ALL_IN_ONE_DELIVERY_WORKERS of them). */
const SERVICES = ['mx', 'submission', 'queue', 'policy', 'admin-api'] as const;

/**
 * One child per service, from the service's own bundle (dist/apps/<service>/main.js, next to
 * this one), with the environment all-in-one was given: mx and submission listen where
 * all-in-one would (MX_LISTEN ...); each child serves its health on a private 127.0.0.1 port
 * (HEALTH_LISTEN, ADMIN_LISTEN for admin-api), while ADMIN_LISTEN itself is the supervisor's;
 * ALL_IN_ONE_CHILD tells each its name, for its log lines.
 */
export function childSpecs(config: AppConfig, env: NodeJS.ProcessEnv, appsDir: string): ChildSpec[] {
  // Deliveries and the queue manager's work can wait; a client waiting for a reply cannot.
  const background = new Set(['queue', 'delivery']);
  const spec = (name: string, service: string): ChildSpec => ({
    name,
    command: process.execPath,
    // This process's node flags (--enable-source-maps ...), but a debugger's port is its own.
    args: [...process.execArgv.filter((a) => !a.startsWith('--inspect')), path.join(appsDir, service, 'main.js')],
    // Each child's log lines name it (`child`), so two delivery workers can be told apart.
    env: { ...env, ALL_IN_ONE_CHILD: name },
    httpListenVariable: service === 'admin-api' ? 'ADMIN_LISTEN' : 'HEALTH_LISTEN',
    nice: background.has(service) ? config.ALL_IN_ONE_BACKGROUND_NICE : 0,
  });
  const workers = config.ALL_IN_ONE_DELIVERY_WORKERS;
  const delivery = Array.from({ length: workers }, (_, i) => spec(workers === 1 ? 'delivery' : `delivery-${i + 1}`, 'delivery'));
  return [...SERVICES.map((s) => spec(s, s)), ...delivery];
}

/** all-in-one's configuration, checked as the single process checks it (HEALTH_LISTEN unread). */
function loadAllInOneConfig(env: NodeJS.ProcessEnv): AppConfig {
  const own = { ...env };
  delete own['HEALTH_LISTEN'];
  return loadConfig(own);
}

function fail(lines: string[]): never {
  for (const line of lines) process.stderr.write(`all-in-one: ${line}\n`);
  process.exit(1);
}

/** Supervise mode: validates, serves ADMIN_LISTEN, starts every child, stops them on a signal. */
export async function superviseServices(ownDir: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config: AppConfig;
  try {
    config = loadAllInOneConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.problems.map((p) => `configuration error: ${p}`));
    throw error;
  }
  const appsDir = path.dirname(ownDir);
  const specs = childSpecs(config, env, appsDir);
  const missing = [...new Set(specs.map((s) => s.args[s.args.length - 1]))].filter((f) => !existsSync(f));
  if (missing.length > 0) fail(missing.map((f) => `${f} is missing: build every app (npx nx run all-in-one:build)`));

  const logger = createLogger('all-in-one', config.LOG_LEVEL);
  const supervisor = new Supervisor(specs, { log: logger });
  const listen = config.ADMIN_LISTEN;
  const server = await serveFront({ ...listen, supervisor, upstream: 'admin-api', metricsToken: config.METRICS_TOKEN }).catch((error: Error) =>
    fail([`failed to start: cannot listen on ADMIN_LISTEN ${formatListenAddress(listen)}: ${error.message}`]),
  );
  exitWithChildrenOnSignals(supervisor, { log: logger, server });
  supervisor.start();
  logger.info(
    { mode: 'supervise', http: formatListenAddress(listen), children: specs.map((s) => s.name) },
    'all-in-one supervising',
  );
}
