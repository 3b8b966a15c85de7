/**
 * Move `finish` of a message (transitions.ts): `queued` → `done` once every recipient is final.
 * The state is compared as text, for the reason given in route.ts.
 */
import type { Recipient, RecipientStatus } from '@mta/db';
import { MESSAGE } from '../transitions';
import { FINISHED } from '../vocabulary';
import { param, sql, statement } from './builder';
import type { Pool } from './load';

const finishedStatuses = () => param([...FINISHED], 'recipient_status[]');
const finishFrom = () => param(MESSAGE.finish.from, 'text[]');
const done = () => param(MESSAGE.finish.to, 'message_state');

/** The recipients of a message not yet delivered or bounced: what settling looks at. */
export async function openRecipients(
  pool: Pool,
  messageId: string,
): Promise<Pick<Recipient, 'status' | 'dsnNotify'>[]> {
  const { rows } = await pool.query<{ status: RecipientStatus; dsn_notify: Recipient['dsnNotify'] }>(
    statement(sql`SELECT status, to_json(COALESCE(dsn_notify, '{}')) AS dsn_notify
       FROM recipients
      WHERE message_id = ${param(messageId, 'uuid')} AND status <> ALL(${finishedStatuses()})`),
  );
  return rows.map((r) => ({ status: r.status, dsnNotify: r.dsn_notify }));
}

/**
 * `queued` → `done` for those of these messages whose every recipient is delivered or bounced:
 * the common end of a message, one statement for a batch. Run after the commit that changed the
 * recipients, so of two outcomes of one message that commit at the same time, the later one
 * sees both. Returns the ids of the messages this call marked done.
 */
export async function markDoneIfAllDelivered(
  pool: Pool,
  messageIds: readonly string[],
): Promise<Set<string>> {
  const { rows } = await pool.query<{ id: string }>(
    statement(sql`UPDATE messages m SET state = ${done()}, updated_at = now()
      WHERE m.id = ANY(${param([...messageIds], 'uuid[]')}) AND m.state::text = ANY(${finishFrom()})
        AND NOT EXISTS (SELECT 1 FROM recipients r
                         WHERE r.message_id = m.id AND r.status <> ALL(${finishedStatuses()}))
      RETURNING m.id`),
  );
  return new Set(rows.map((r) => r.id));
}

/** `queued` → `done`, only from `queued` (the caller checked the recipients). True if this call changed it. */
export async function markDone(pool: Pool, messageId: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    statement(sql`UPDATE messages SET state = ${done()}, updated_at = now()
      WHERE id = ${param(messageId, 'uuid')} AND state::text = ANY(${finishFrom()})`),
  );
  return (rowCount ?? 0) > 0;
}
