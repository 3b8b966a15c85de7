import type { Server } from 'node:http';
import type { SupervisorLog } from './log';
import type { Supervisor } from './supervisor';

export interface SignalOptions {
  readonly log: SupervisorLog;
  /** Closed once every child has exited (the supervisor's own HTTP port). */
  readonly server?: Server;
  /** Default `process.exit`. */
  readonly exit?: (code: number) => void;
}

/**
 * SIGTERM, SIGINT or SIGHUP: every child gets SIGTERM (and drains), the supervisor waits for them
 * all (SIGKILL after the grace period), then exits 0 when each exited 0, else 1. A second signal
 * changes nothing.
 */
export function exitWithChildrenOnSignals(supervisor: Supervisor, options: SignalOptions): void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const onSignal = (signal: NodeJS.Signals): void => {
    if (supervisor.stopping) {
      options.log.info({ signal }, 'already stopping');
      return;
    }
    const t0 = Date.now();
    void supervisor.stop('SIGTERM').then((code) => {
      options.server?.closeAllConnections();
      options.server?.close();
      options.log.info({ signal, code, ms: Date.now() - t0 }, 'every child has exited');
      exit(code);
    });
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, onSignal);
}
