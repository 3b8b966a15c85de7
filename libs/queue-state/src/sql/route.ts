/**
 * Move `route` of a batch of messages (transitions.ts), in one statement.
 *
 * A message's state is compared as text (`state::text = ANY(...)`) where the rows are found by
 * id: that keeps the planner from finding them through the index on (state, received_at) and
 * filtering by id, which it does whenever its statistics say few messages are in that state
 * (after a quiet hour, say); under a burst thousands are, and each statement would read them all
 * (bench/README.md, "e2e").
 */
import type { RecipientRoute } from '@mta/db';
import { MESSAGE } from '../transitions';
import { param, sql, statement } from './builder';
import { blocksColumns, blocksOf, type BlockKeys, type Blocks, type BlocksRow, type Pool } from './load';

/** One message's part of the router's commit. */
export interface RoutedStep {
  messageId: string;
  queueId: string;
  routeChanges: readonly { id: string; route: RecipientRoute }[];
  detail: unknown;
}

/**
 * The router's commit for a batch of messages: each `received` → `queued` (only if still
 * `received`: of two replicas replaying one job, one wins), the routes that changed, and one
 * `routed` event each; in the same round trip, the blocks of the recipients (for the
 * dispatcher). Returns the ids of the messages this call moved to `queued`.
 */
export async function markRouted(
  pool: Pool,
  steps: readonly RoutedStep[],
  blocksFor: BlockKeys,
): Promise<{ won: Set<string>; blocks: Blocks }> {
  const changes = steps.flatMap((s) => s.routeChanges.map((c) => ({ messageId: s.messageId, ...c })));
  const move = MESSAGE.route;
  const x = {
    id: param(
      steps.map((s) => s.messageId),
      'uuid[]',
    ),
    queueId: param(
      steps.map((s) => s.queueId),
      'text[]',
    ),
    detail: param(
      steps.map((s) => JSON.stringify(s.detail)),
      'text[]',
    ),
  };
  const c = {
    messageId: param(
      changes.map((ch) => ch.messageId),
      'uuid[]',
    ),
    id: param(
      changes.map((ch) => ch.id),
      'uuid[]',
    ),
    route: param(
      changes.map((ch) => ch.route),
      'text[]',
    ),
  };
  const { rows } = await pool.query<{ won: string[] } & BlocksRow>(
    statement(sql`WITH m AS (
       UPDATE messages SET state = ${param(move.to, 'message_state')}, updated_at = now()
         FROM unnest(${x.id}, ${x.queueId}, ${x.detail}) AS x(id, queue_id, detail)
        WHERE messages.id = x.id AND messages.state::text = ANY(${param(move.from, 'text[]')})
        RETURNING messages.id, x.queue_id, x.detail
     ), r AS (
       UPDATE recipients SET route = c.route::recipient_route, updated_at = now()
         FROM m, unnest(${c.messageId}, ${c.id}, ${c.route}) AS c(message_id, id, route)
        WHERE c.message_id = m.id AND recipients.id = c.id AND recipients.message_id = m.id
     ), e AS (
       INSERT INTO events (type, message_id, queue_id, detail)
       SELECT ${param(move.event, 'event_type')}, m.id, m.queue_id, m.detail::jsonb FROM m
     )
     SELECT COALESCE((SELECT json_agg(id) FROM m), '[]') AS won, ${blocksColumns(blocksFor)}`),
  );
  return { won: new Set(rows[0]?.won ?? []), blocks: blocksOf(rows[0]) };
}
