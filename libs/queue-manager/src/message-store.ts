/**
 * The statements the queue manager runs for every message, in plain SQL on the pg pool.
 *
 * Prisma compiles each query before it sends it, which costs several times the query itself
 * (measured here: about 0.8-1.1 ms of CPU per Prisma call against 0.18 ms for the same SELECT on
 * pg), and a message passes through the router and the outcome applier with some twenty of
 * them. The rarer paths (retries, DSNs, pauses, the reconciler) stay on Prisma.
 *
 * Every write here is ONE statement (data-modifying CTEs share one snapshot and commit together),
 * with the same conditions the Prisma code had: a replayed job changes nothing. Each takes a
 * batch of messages (the router and the outcome applier group the jobs that run at the same
 * time, see batches.ts): one statement for N messages instead of N.
 *
 * A message's state is compared as text (`state::text = 'queued'`) where the rows are found by
 * id: that keeps the planner from finding them through the index on (state, received_at) and
 * filtering by id, which it does whenever its statistics say few messages are in that state
 * (after a quiet hour, say). Under a burst thousands are, and each statement then reads them
 * all: "mark done" of 8 messages with 3,100 queued read 2,706 blocks in 3.6 ms that way, 229 in
 * 0.6 ms by primary key (EXPLAIN ANALYZE, generic plan, statistics taken with all done).
 *
 * None of these is a named (prepared) statement, so PostgreSQL plans each one for its
 * parameters and the tables as they are now. A named statement switches to a generic plan after
 * five runs and keeps it for the life of the connection, and a plan made while the tables were
 * small (a new server, a quiet hour) reads whole tables once they are not. In bench/e2e (10,000
 * messages, the tables growing from 200 rows) "mark done" ran sequential scans of recipients in
 * a nested loop: 12.4 s of the run's 27 s of statement time, 2,892 blocks and 15 ms per batch;
 * unnamed, 0.4 s in all, 193 blocks per batch, for 0.3 ms of planning each. Loading messages
 * read the whole messages table the same way.
 */
import type { Recipient, RecipientRoute, RecipientStatus } from '@mta/db';
import type pg from 'pg';
import type { MessageRef } from './types';

export type Pool = Pick<pg.Pool, 'query'>;

/** A recipient row as json_build_object gives it (timestamps as ISO strings). */
interface RecipientJson {
  id: string;
  messageId: string;
  address: string;
  domain: string;
  route: RecipientRoute | null;
  status: RecipientStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  lastReplyCode: number | null;
  lastEnhancedCode: string | null;
  lastReplyText: string | null;
  delayNotifiedAt: string | null;
  dsnNotify: Recipient['dsnNotify'];
  dsnOrcpt: string | null;
  createdAt: string;
  updatedAt: string;
}

const date = (value: string | null) => (value === null ? null : new Date(value));

function recipientOf(row: RecipientJson): Recipient {
  return {
    ...row,
    nextAttemptAt: date(row.nextAttemptAt),
    lastAttemptAt: date(row.lastAttemptAt),
    delayNotifiedAt: date(row.delayNotifiedAt),
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
  };
}

/** A message's reference fields and its recipients (ordered by address). */
export interface LoadedMessage {
  msg: MessageRef;
  recipients: Recipient[];
}

/**
 * Messages and their recipients, in one round trip, by message id (absent: no such message).
 * `recipientIds` narrows the recipients to those.
 */
export async function loadMessages(
  pool: Pool,
  messageIds: readonly string[],
  recipientIds?: readonly string[],
): Promise<Map<string, LoadedMessage>> {
  const { rows } = await pool.query<{
    id: string;
    queue_id: string;
    sender: string;
    state: MessageRef['state'];
    received_at: Date;
    recipients: RecipientJson[];
  }>({
    text: `SELECT m.id, m.queue_id, m.sender, m.state, m.received_at,
            COALESCE((
              SELECT json_agg(json_build_object(
                'id', r.id, 'messageId', r.message_id, 'address', r.address, 'domain', r.domain,
                'route', r.route, 'status', r.status, 'attempts', r.attempts,
                'nextAttemptAt', r.next_attempt_at, 'lastAttemptAt', r.last_attempt_at,
                'lastReplyCode', r.last_reply_code, 'lastEnhancedCode', r.last_enhanced_code,
                'lastReplyText', r.last_reply_text, 'delayNotifiedAt', r.delay_notified_at,
                'dsnNotify', COALESCE(r.dsn_notify, '{}'), 'dsnOrcpt', r.dsn_orcpt,
                'createdAt', r.created_at, 'updatedAt', r.updated_at) ORDER BY r.address)
              FROM recipients r
              WHERE r.message_id = m.id AND ($2::uuid[] IS NULL OR r.id = ANY($2::uuid[]))
            ), '[]') AS recipients
       FROM messages m
      WHERE m.id = ANY($1::uuid[])`,
    values: [[...messageIds], recipientIds ? [...recipientIds] : null],
  });
  return new Map(
    rows.map((row) => [
      row.id,
      {
        msg: {
          id: row.id,
          queueId: row.queue_id,
          sender: row.sender,
          state: row.state,
          receivedAt: row.received_at,
        },
        recipients: row.recipients.map(recipientOf),
      },
    ]),
  );
}

/** What stops recipients from being sent now: suppressed addresses and paused domains. */
export interface Blocks {
  /** Lower-case address → reason. */
  suppressions: Map<string, string>;
  /** Domain → end of the pause (null: until removed). */
  pauses: Map<string, Date | null>;
}

/**
 * The two subqueries of `Blocks` as JSON arrays, on parameters `$a` (addresses: exact and
 * lower-case), `$d` (domains) and `$n` (now): suppressions not expired, pauses not over.
 */
function blocksColumns(a: number, d: number, n: number): string {
  return `COALESCE((SELECT json_agg(json_build_object('key', address, 'reason', reason))
                      FROM suppressions
                     WHERE address = ANY($${a}::text[]) AND (expires_at IS NULL OR expires_at > $${n})), '[]') AS suppressions,
          COALESCE((SELECT json_agg(json_build_object('key', domain, 'until', paused_until))
                      FROM domain_pauses
                     WHERE domain = ANY($${d}::text[]) AND (paused_until IS NULL OR paused_until > $${n})), '[]') AS pauses`;
}

interface BlocksRow {
  suppressions: { key: string; reason: string }[];
  pauses: { key: string; until: string | null }[];
}

function blocksOf(row: BlocksRow | undefined): Blocks {
  return {
    suppressions: new Map((row?.suppressions ?? []).map((s) => [s.key.toLowerCase(), s.reason])),
    pauses: new Map((row?.pauses ?? []).map((p) => [p.key, p.until === null ? null : new Date(p.until)])),
  };
}

/** The addresses and domains whose blocks matter for these recipients. */
export function blockKeys(recipients: readonly Pick<Recipient, 'address' | 'domain'>[]) {
  return {
    addresses: [...new Set(recipients.flatMap((r) => [r.address, r.address.toLowerCase()]))],
    domains: [...new Set(recipients.map((r) => r.domain))],
  };
}

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
  blocksFor: { addresses: readonly string[]; domains: readonly string[]; now: Date },
): Promise<{ won: Set<string>; blocks: Blocks }> {
  const changes = steps.flatMap((s) => s.routeChanges.map((c) => ({ messageId: s.messageId, ...c })));
  const { rows } = await pool.query<{ won: string[] } & BlocksRow>({
    text: `WITH m AS (
       UPDATE messages SET state = 'queued', updated_at = now()
         FROM unnest($1::uuid[], $2::text[], $3::text[]) AS x(id, queue_id, detail)
        WHERE messages.id = x.id AND messages.state::text = 'received'
        RETURNING messages.id, x.queue_id, x.detail
     ), r AS (
       UPDATE recipients SET route = c.route::recipient_route, updated_at = now()
         FROM m, unnest($4::uuid[], $5::uuid[], $6::text[]) AS c(message_id, id, route)
        WHERE c.message_id = m.id AND recipients.id = c.id AND recipients.message_id = m.id
     ), e AS (
       INSERT INTO events (type, message_id, queue_id, detail)
       SELECT 'routed', m.id, m.queue_id, m.detail::jsonb FROM m
     )
     SELECT COALESCE((SELECT json_agg(id) FROM m), '[]') AS won, ${blocksColumns(7, 8, 9)}`,
    values: [
      steps.map((s) => s.messageId),
      steps.map((s) => s.queueId),
      steps.map((s) => JSON.stringify(s.detail)),
      changes.map((c) => c.messageId),
      changes.map((c) => c.id),
      changes.map((c) => c.route),
      [...blocksFor.addresses],
      [...blocksFor.domains],
      blocksFor.now,
    ],
  });
  return { won: new Set(rows[0]?.won ?? []), blocks: blocksOf(rows[0]) };
}

/** The blocks of these addresses and domains (see Blocks), in one round trip. */
export async function loadBlocks(
  pool: Pool,
  addresses: readonly string[],
  domains: readonly string[],
  now: Date,
): Promise<Blocks> {
  const { rows } = await pool.query<BlocksRow>({
    text: `SELECT ${blocksColumns(1, 2, 3)}`,
    values: [[...addresses], [...domains], now],
  });
  return blocksOf(rows[0]);
}

/** One delivery result to record: the recipient as it was read, and what it becomes. */
export interface AppliedResult {
  recipient: Pick<Recipient, 'id' | 'status' | 'attempts'>;
  status: RecipientStatus;
  nextAttemptAt: Date | null;
  code: number;
  enhanced: string | null;
  text: string;
  eventType: 'delivered' | 'deferred' | 'failed' | 'expired';
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
  results: readonly AppliedResult[];
}

/**
 * The outcome applier's commit, for all results of a batch of outcomes in one statement: each
 * recipient is updated only if its status and attempt count are still those it was read with (a
 * replayed or late outcome updates nothing), and each updated one gets its `delivery_attempts`
 * row and its event. Returns the ids of the recipients updated.
 */
export async function recordResults(
  pool: Pool,
  now: Date,
  outcomes: readonly RecordedOutcome[],
): Promise<Set<string>> {
  const rows = outcomes.flatMap((o) => o.results.map((r) => ({ o, r })));
  if (rows.length === 0) return new Set();
  const col = <T>(f: (row: { o: RecordedOutcome; r: AppliedResult }) => T) => rows.map(f);
  const result = await pool.query<{ id: string }>({
    text: `WITH x AS (
       SELECT * FROM unnest($2::uuid[], $3::text[], $4::int[], $5::uuid[], $6::text[], $7::int[],
                            $8::text[], $9::timestamptz[], $10::int[], $11::text[], $12::text[],
                            $13::text[], $14::text[], $15::text[], $16::text[], $17::int[],
                            $18::text[], $19::text[], $20::bool[], $21::text[])
         AS x(message_id, queue_id, attempt, id, old_status, old_attempts, status, next_attempt_at,
              code, enhanced, text, event_type, detail, mx_host, ip, port, tls_version, tls_cipher,
              tls_verified, tls_policy)
     ), u AS (
       UPDATE recipients r
          SET status = x.status::recipient_status, attempts = x.attempt, last_attempt_at = $1,
              next_attempt_at = x.next_attempt_at, last_reply_code = x.code,
              last_enhanced_code = x.enhanced, last_reply_text = x.text, updated_at = now()
         FROM x
        WHERE r.id = x.id AND r.message_id = x.message_id
          AND r.status = x.old_status::recipient_status AND r.attempts = x.old_attempts
        RETURNING r.id
     ), a AS (
       INSERT INTO delivery_attempts (message_id, recipient_id, started_at, finished_at, mx_host, ip, port,
                                      reply_code, enhanced_code, reply_text, tls_version, tls_cipher, tls_verified,
                                      tls_policy)
       SELECT x.message_id, x.id, $1, $1, x.mx_host, x.ip, x.port, x.code, x.enhanced, x.text,
              x.tls_version, x.tls_cipher, x.tls_verified, x.tls_policy
         FROM x JOIN u USING (id)
     ), e AS (
       INSERT INTO events (type, message_id, queue_id, recipient_id, detail)
       SELECT x.event_type::event_type, x.message_id, x.queue_id, x.id, x.detail::jsonb
         FROM x JOIN u USING (id)
     )
     SELECT id FROM u`,
    values: [
      now,
      col(({ o }) => o.messageId),
      col(({ o }) => o.queueId),
      col(({ o }) => o.attempt),
      col(({ r }) => r.recipient.id),
      col(({ r }) => r.recipient.status),
      col(({ r }) => r.recipient.attempts),
      col(({ r }) => r.status),
      col(({ r }) => r.nextAttemptAt),
      col(({ r }) => r.code),
      col(({ r }) => r.enhanced),
      col(({ r }) => r.text),
      col(({ r }) => r.eventType),
      col(({ r }) => JSON.stringify(r.eventDetail)),
      col(({ r }) => r.remote.host),
      col(({ r }) => r.remote.address),
      col(({ r }) => r.remote.port),
      col(({ r }) => r.tls?.version ?? null),
      col(({ r }) => r.tls?.cipher ?? null),
      col(({ r }) => (r.tls ? r.tls.verified : null)),
      col(({ r }) => r.tlsPolicy),
    ],
  });
  return new Set(result.rows.map((r) => r.id));
}

/** The recipients of a message not yet delivered or bounced: what settling looks at. */
export async function openRecipients(
  pool: Pool,
  messageId: string,
): Promise<Pick<Recipient, 'status' | 'dsnNotify'>[]> {
  const { rows } = await pool.query<{ status: RecipientStatus; dsn_notify: Recipient['dsnNotify'] }>({
    text: `SELECT status, to_json(COALESCE(dsn_notify, '{}')) AS dsn_notify
       FROM recipients
      WHERE message_id = $1 AND status NOT IN ('delivered', 'bounced')`,
    values: [messageId],
  });
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
  const { rows } = await pool.query<{ id: string }>({
    text: `UPDATE messages m SET state = 'done', updated_at = now()
      WHERE m.id = ANY($1::uuid[]) AND m.state::text = 'queued'
        AND NOT EXISTS (SELECT 1 FROM recipients r
                         WHERE r.message_id = m.id AND r.status NOT IN ('delivered', 'bounced'))
      RETURNING m.id`,
    values: [[...messageIds]],
  });
  return new Set(rows.map((r) => r.id));
}

/** `queued` → `done`, only from `queued`. True if this call changed it. */
export async function markDone(pool: Pool, messageId: string): Promise<boolean> {
  const { rowCount } = await pool.query({
    text: `UPDATE messages SET state = 'done', updated_at = now() WHERE id = $1 AND state::text = 'queued'`,
    values: [messageId],
  });
  return (rowCount ?? 0) > 0;
}
