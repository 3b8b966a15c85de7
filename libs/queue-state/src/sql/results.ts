/**
 * Moves `deliver`, `defer`, `deferHeld`, `fail` and `expire` (by the outcome applier) of every
 * result of a batch of outcomes, and `finish` of the messages whose every recipient they deliver,
 * in one statement (transitions.ts).
 */
import type { Recipient, RecipientStatus } from '@mta/db';
import { MESSAGE, RECIPIENT } from '../transitions';
import { join, param, sql, statement } from './builder';
import type { Pool } from './load';

/** The moves a delivery result makes. */
export type ResultMove = 'deliver' | 'defer' | 'deferHeld' | 'fail' | 'expire';

/** One delivery result to record: the recipient as it was read, and what it becomes. */
export interface AppliedResult {
  recipient: Pick<Recipient, 'id' | 'status' | 'attempts'>;
  /** The move, which says the status and the event (transitions.ts). */
  move: ResultMove;
  nextAttemptAt: Date | null;
  code: number;
  enhanced: string | null;
  text: string;
  /** A hard bounce to put on the suppression list (outcome.ts in libs/queue-manager decides). */
  suppress: { reason: string; queueId: string } | null;
  eventDetail: unknown;
  remote: { host: string | null; address: string | null; port: number | null };
  tls: { version: string | null; cipher: string | null; verified: boolean } | null;
  /** The outbound TLS policy of the attempt (remote delivery), else null. */
  tlsPolicy: string | null;
}

/** One outcome's part of the outcome applier's commit. */
export interface RecordedOutcome {
  messageId: string;
  queueId: string;
  attempt: number;
  /** How many recipients the message has in all (see `recordResults`). */
  recipientTotal: number;
  results: readonly AppliedResult[];
}

/** What the commit changed. */
export interface RecordedResults {
  /** The recipients updated. */
  updated: Set<string>;
  /** The messages marked `done`: this commit delivered every one of their recipients. */
  finished: Set<string>;
}

/**
 * The outcome applier's commit, for all results of a batch of outcomes in one statement: each
 * recipient is updated only if its status and attempt count are still those it was read with (a
 * replayed or late outcome updates nothing), and each updated one gets its `delivery_attempts`
 * row and its event; a hard bounce marked `suppress` puts the address (in lower case) on the
 * suppression list with the reply as reason and the message's queue id, unless an entry is there
 * already (an expired one is renewed).
 *
 * A message whose every recipient this commit delivers is marked `done` in the same statement
 * (move `finish`), the common end of a message without a second round trip. Only then: whether
 * recipients that other commits change at the same time are final, this statement's snapshot
 * cannot tell, so any other message is left to the settler's check after the commit.
 */
export async function recordResults(
  pool: Pool,
  now: Date,
  outcomes: readonly RecordedOutcome[],
): Promise<RecordedResults> {
  const rows = outcomes.flatMap((o) => o.results.map((r) => ({ o, r })));
  if (rows.length === 0) return { updated: new Set(), finished: new Set() };
  const at = param(now, 'timestamptz');
  const x = resultColumns(rows);
  const result = await pool.query<{ id: string; finished: boolean }>(
    statement(sql`WITH x AS (
       SELECT * FROM unnest(${join(x, ', ')})
         AS x(message_id, queue_id, attempt, id, old_status, old_attempts, status, next_attempt_at,
              code, enhanced, text, event_type, detail, mx_host, ip, port, tls_version, tls_cipher,
              tls_verified, tls_policy, suppress_reason, recipient_total)
     ), u AS (
       UPDATE recipients r
          SET status = x.status::recipient_status, attempts = x.attempt, last_attempt_at = ${at},
              next_attempt_at = x.next_attempt_at, last_reply_code = x.code,
              last_enhanced_code = x.enhanced, last_reply_text = x.text, updated_at = now()
         FROM x
        WHERE r.id = x.id AND r.message_id = x.message_id
          AND r.status = x.old_status::recipient_status AND r.attempts = x.old_attempts
        RETURNING r.id, r.address
     ), a AS (
       INSERT INTO delivery_attempts (message_id, recipient_id, started_at, finished_at, mx_host, ip, port,
                                      reply_code, enhanced_code, reply_text, tls_version, tls_cipher, tls_verified,
                                      tls_policy)
       SELECT x.message_id, x.id, ${at}, ${at}, x.mx_host, x.ip, x.port, x.code, x.enhanced, x.text,
              x.tls_version, x.tls_cipher, x.tls_verified, x.tls_policy
         FROM x JOIN u USING (id)
     ), e AS (
       INSERT INTO events (type, message_id, queue_id, recipient_id, detail)
       SELECT x.event_type::event_type, x.message_id, x.queue_id, x.id, x.detail::jsonb
         FROM x JOIN u USING (id)
     ), s AS (
       INSERT INTO suppressions (address, reason, queue_id)
       SELECT DISTINCT ON (lower(u.address)) lower(u.address), x.suppress_reason, x.queue_id
         FROM x JOIN u USING (id)
        WHERE x.suppress_reason IS NOT NULL
       ON CONFLICT (address) DO UPDATE
          SET reason = EXCLUDED.reason, queue_id = EXCLUDED.queue_id, expires_at = NULL, created_at = now()
        WHERE suppressions.expires_at IS NOT NULL AND suppressions.expires_at <= now()
     ), d AS (
       SELECT x.message_id, count(DISTINCT x.id) AS delivered, max(x.recipient_total) AS total
         FROM x JOIN u USING (id)
        WHERE x.status = ${param(RECIPIENT.deliver.to, 'text')}
        GROUP BY x.message_id
     ), f AS (
       UPDATE messages m SET state = ${param(MESSAGE.finish.to, 'message_state')}, updated_at = now()
         FROM d
        WHERE m.id = d.message_id AND d.delivered = d.total
          AND m.state::text = ANY(${param(MESSAGE.finish.from, 'text[]')})
        RETURNING m.id
     )
     SELECT id, false AS finished FROM u UNION ALL SELECT id, true FROM f`),
  );
  const ids = (finished: boolean) => new Set(result.rows.filter((r) => r.finished === finished).map((r) => r.id));
  return { updated: ids(false), finished: ids(true) };
}

/** The unnest columns of the commit, one array per column, in the order of `x(...)` above. */
function resultColumns(rows: readonly { o: RecordedOutcome; r: AppliedResult }[]) {
  const col = <T>(type: string, f: (row: { o: RecordedOutcome; r: AppliedResult }) => T) =>
    param(rows.map(f), type);
  return [
    col('uuid[]', ({ o }) => o.messageId),
    col('text[]', ({ o }) => o.queueId),
    col('int[]', ({ o }) => o.attempt),
    col('uuid[]', ({ r }) => r.recipient.id),
    col('text[]', ({ r }) => r.recipient.status),
    col('int[]', ({ r }) => r.recipient.attempts),
    col('text[]', ({ r }): RecipientStatus => RECIPIENT[r.move].to),
    col('timestamptz[]', ({ r }) => r.nextAttemptAt),
    col('int[]', ({ r }) => r.code),
    col('text[]', ({ r }) => r.enhanced),
    col('text[]', ({ r }) => r.text),
    col('text[]', ({ r }) => RECIPIENT[r.move].event),
    col('text[]', ({ r }) => JSON.stringify(r.eventDetail)),
    col('text[]', ({ r }) => r.remote.host),
    col('text[]', ({ r }) => r.remote.address),
    col('int[]', ({ r }) => r.remote.port),
    col('text[]', ({ r }) => r.tls?.version ?? null),
    col('text[]', ({ r }) => r.tls?.cipher ?? null),
    col('bool[]', ({ r }) => (r.tls ? r.tls.verified : null)),
    col('text[]', ({ r }) => r.tlsPolicy),
    col('text[]', ({ r }) => r.suppress?.reason ?? null),
    col('int[]', ({ o }) => o.recipientTotal),
  ];
}
