/** What the supervisor logs through: pino's logger fits (the all-in-one app passes its own). */
export interface SupervisorLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}
