/**
 * The words of a message's life, taken from the Prisma enums of libs/db (the database's own
 * types), never retyped: a status added to the schema shows up here, and a status removed from it
 * breaks the build of every list below. Without the Prisma client: `@mta/queue-state/vocabulary`
 * can be bundled by a program without a database (mtactl, through the admin API's schemas).
 */
import { EventType, MessageState, RecipientStatus } from '@mta/db/enums';

export { EventType, MessageState, RecipientStatus };

/** Every message state, in the schema's order. */
export const MESSAGE_STATES: readonly MessageState[] = Object.values(MessageState);

/** Every recipient status, in the schema's order. */
export const RECIPIENT_STATUSES: readonly RecipientStatus[] = Object.values(RecipientStatus);

/** Recipients that wait for a delivery attempt: the dispatcher may give them a job. */
export const WAITING = [RecipientStatus.queued, RecipientStatus.deferred] as const;
export type WaitingStatus = (typeof WAITING)[number];

/** Recipients not final: waiting, or held by an administrator. */
export const OPEN = [...WAITING, RecipientStatus.held] as const;
export type OpenStatus = (typeof OPEN)[number];

/**
 * Recipients nothing more happens to. `failed` is final too once no DSN is due for it (sender
 * `<>`, NOTIFY=NEVER, NOTIFY without FAILURE); with a DSN due it becomes `bounced`.
 */
export const FINISHED = [RecipientStatus.delivered, RecipientStatus.bounced] as const;

/** Messages whose recipients may still change (not `done`). */
export const UNFINISHED_MESSAGES = [MessageState.received, MessageState.queued, MessageState.held] as const;

export const isWaiting = (status: RecipientStatus): status is WaitingStatus =>
  (WAITING as readonly RecipientStatus[]).includes(status);

export const isOpen = (status: RecipientStatus): status is OpenStatus =>
  (OPEN as readonly RecipientStatus[]).includes(status);

/** Counts by status with every status present (0 where none), for the API and the gauges. */
export function countsByStatus<S extends string>(
  statuses: readonly S[],
  rows: readonly { key: S; count: number }[],
): Record<S, number> {
  const counts = Object.fromEntries(statuses.map((s) => [s, 0])) as Record<S, number>;
  for (const row of rows) counts[row.key] = row.count;
  return counts;
}
