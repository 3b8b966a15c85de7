import pino, { type Logger, type LevelWithSilent } from 'pino';
import type { Outages } from './outage';

export type { Logger } from 'pino';

/**
 * The process logger: JSON, one line per event, to stdout. Every line carries the service
 * name; lines about one message carry its queue id (`logger.child({ queueId })`).
 * Secrets are redacted by key wherever they appear in a logged object. Writes are
 * synchronous, so the last lines before an exit or a crash are never lost.
 *
 * With `outages`, a warning or error whose `err` is a known outage again (PostgreSQL or Redis
 * down, outage.ts) is dropped: the outage itself says so once a minute, with the count.
 */
export function createLogger(
  service: string,
  level: LevelWithSilent = 'info',
  destination?: pino.DestinationStream,
  outages?: Outages,
): Logger {
  return pino(
    {
      level,
      hooks: {
        logMethod(args, method, levelValue) {
          if (outages && levelValue >= WARN && outages.swallows(errorText(args[0]))) return;
          method.apply(this, args);
        },
      },
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          'password',
          '*.password',
          'token',
          '*.token',
          'authorization',
          '*.authorization',
          'passwordHash',
          '*.passwordHash',
        ],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination({ sync: true }),
  );
}


const WARN = 40;

/** The `err` of a log call's fields, as text ('' when there is none). */
function errorText(fields: unknown): string {
  if (typeof fields !== 'object' || fields === null) return '';
  const err = (fields as { err?: unknown }).err;
  if (typeof err === 'string') return err;
  return err instanceof Error ? err.message : '';
}
