import type { INestApplication } from '@nestjs/common';
import type { Logger } from '@mta/observability';

/**
 * The hard upper bound of a graceful shutdown. Kubernetes sends SIGTERM, waits
 * `terminationGracePeriodSeconds` (30 s by default) and then sends SIGKILL; 25 s leaves a
 * margin. Within it, the modules' own bounds: delivery lets running deliveries go on for 12 s,
 * aborts them and waits 5 s more (libs/delivery/src/worker/delivery-worker.ts); the queue
 * manager gives its steps 5 s (libs/queue-manager/src/queue-manager.ts).
 */
export const SHUTDOWN_TIMEOUT_MS = 25_000;

export interface ShutdownOptions {
  /** Default SHUTDOWN_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** Default SIGTERM and SIGINT. */
  readonly signals?: readonly NodeJS.Signals[];
  /** Default `process.exit`; tests pass their own. */
  readonly exit?: (code: number) => void;
}

/**
 * Graceful shutdown on SIGTERM/SIGINT, instead of Nest's `enableShutdownHooks`, which waits for
 * `app.close()` without any bound and then re-raises the signal (the process ends killed by the
 * signal, not with an exit code). Here: the first signal closes the application (every module's
 * shutdown hook: workers stop taking jobs, running jobs finish or are handed back, connections
 * close) and the process exits 0. If that takes longer than `timeoutMs`, it exits 1 anyway:
 * jobs still claimed then stay claimed until their lock expires and another worker takes them
 * (BullMQ's stalled check), as after a SIGKILL, so nothing is lost. A second signal changes
 * nothing. Returns a function that removes the handlers.
 */
export function exitOnShutdownSignals(
  app: Pick<INestApplication, 'close'>,
  logger: Logger,
  options: ShutdownOptions = {},
): () => void {
  const timeoutMs = options.timeoutMs ?? SHUTDOWN_TIMEOUT_MS;
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let started = false;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (started) {
      logger.info({ signal }, 'already shutting down');
      return;
    }
    started = true;
    const t0 = Date.now();
    logger.info({ signal, timeoutMs }, 'shutdown started');
    const deadline = setTimeout(() => {
      logger.error(
        { timeoutMs },
        'shutdown did not finish in time: exiting anyway (jobs still claimed go to another worker when their lock expires)',
      );
      exit(1);
    }, timeoutMs);
    app.close().then(
      () => {
        clearTimeout(deadline);
        logger.info({ ms: Date.now() - t0 }, 'shutdown complete');
        exit(0);
      },
      (error: unknown) => {
        clearTimeout(deadline);
        logger.error({ err: error instanceof Error ? error.message : String(error) }, 'shutdown failed');
        exit(1);
      },
    );
  };

  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
