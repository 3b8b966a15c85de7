import type { INestApplication } from '@nestjs/common';
import type { DrainFailure, Logger } from '@mta/observability';

/**
 * The hard upper bound of a graceful shutdown, from SIGTERM to exit. Kubernetes runs the
 * preStop hook, sends SIGTERM, and sends SIGKILL `terminationGracePeriodSeconds` after the
 * preStop began; the manifests give preStop + 25 s + a margin (README "Operations", "Draining").
 * Within it, the modules' own bounds, which run at the same time (the drain): an SMTP service
 * answers 421 for `SMTP_DRAIN_MS` (10 s by default, at most 20 s); delivery lets running
 * deliveries go on for 12 s, aborts them and waits 5 s more
 * (libs/delivery/src/worker/delivery-worker.ts); the queue manager gives its steps 5 s
 * (libs/queue-manager/src/queue-manager.ts).
 */
export const SHUTDOWN_TIMEOUT_MS = 25_000;

export interface ShutdownOptions {
  /** Default SHUTDOWN_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** Default SIGTERM and SIGINT. */
  readonly signals?: readonly NodeJS.Signals[];
  /** Default `process.exit`; tests pass their own. */
  readonly exit?: (code: number) => void;
  /**
   * The drain (`Drain.run` of @mta/observability): runs first, while the application still
   * serves HTTP (readiness answers 503), then `app.close()`. Resolves with the steps that failed.
   */
  readonly drain?: () => Promise<DrainFailure[]>;
}

/**
 * Graceful shutdown on SIGTERM/SIGINT, instead of Nest's `enableShutdownHooks`, which waits for
 * `app.close()` without any bound and then re-raises the signal (the process ends killed by the
 * signal, not with an exit code). Here: the first signal drains the process (`options.drain`: readiness
 * turns 503, SMTP listeners answer 421 4.3.2 while open transactions finish, workers stop taking
 * jobs and running jobs finish or are handed back, all at once), then closes the application
 * (every module's shutdown hook; connections close) and the process exits 0. If that takes longer than `timeoutMs`, it exits 1 anyway:
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
    drain(options.drain, logger)
      .then(() => app.close())
      .then(
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

/** Runs the drain if any; its failures are logged, and the shutdown goes on to `app.close()`. */
async function drain(run: ShutdownOptions['drain'], logger: Logger): Promise<void> {
  if (!run) return;
  try {
    for (const f of await run()) logger.error({ step: f.name, err: f.error }, 'drain step failed');
  } catch (error) {
    logger.error({ err: error instanceof Error ? error.message : String(error) }, 'drain failed');
  }
}
