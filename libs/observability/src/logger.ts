import pino, { type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/**
 * The process logger: JSON, one line per event, to stdout. Every line carries the service
 * name; lines about one message carry its queue id (`logger.child({ queueId })`).
 * Secrets are redacted by key wherever they appear in a logged object. Writes are
 * synchronous, so the last lines before an exit or a crash are never lost.
 */
export function createLogger(
  service: string,
  level: LevelWithSilent = 'info',
  destination?: pino.DestinationStream,
): Logger {
  return pino(
    {
      level,
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

