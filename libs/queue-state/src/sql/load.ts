/**
 * The reads of the hot path: a batch of messages with their recipients (router, outcome applier)
 * and what blocks recipients from being sent now (suppressions, paused destinations).
 */
import type { Message, Recipient, RecipientRoute, RecipientStatus } from '@mta/db';
import type pg from 'pg';
import { Fragment, param, sql, statement, type Param } from './builder';

export type Pool = Pick<pg.Pool, 'query'>;

/** The fields of a message the queue works with (never the body). */
export type MessageRef = Pick<Message, 'id' | 'queueId' | 'sender' | 'state' | 'receivedAt'>;

/** The same, as a Prisma `select`. */
export const MESSAGE_REF = { id: true, queueId: true, sender: true, state: true, receivedAt: true } as const;

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
  /** How many recipients the message has in all (`recipients` may be narrowed to some). */
  recipientTotal: number;
}

/** What the batch's readers also want to know: the operator's settings that apply to it. */
export interface LoadedBatch {
  messages: Map<string, LoadedMessage>;
  /** `settings.suppressHardBounces` (false when unset or not a boolean). */
  suppressHardBounces: boolean;
}

/**
 * Messages and their recipients, in one round trip, by message id (absent: no such message).
 * `recipientIds` narrows the recipients to those.
 */
export async function loadMessages(
  pool: Pool,
  messageIds: readonly string[],
  recipientIds?: readonly string[],
): Promise<LoadedBatch> {
  const ids = param([...messageIds], 'uuid[]');
  const only = param(recipientIds ? [...recipientIds] : null, 'uuid[]');
  const { rows } = await pool.query<{
    id: string;
    queue_id: string;
    sender: string;
    state: MessageRef['state'];
    received_at: Date;
    recipients: RecipientJson[];
    recipient_total: number | null;
    suppress_hard_bounces: boolean | null;
  }>(
    statement(sql`SELECT m.id, m.queue_id, m.sender, m.state, m.received_at,
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
              WHERE r.message_id = m.id AND (${only} IS NULL OR r.id = ANY(${only}))
            ), '[]') AS recipients,
            -- Counted only when the recipients are narrowed: else it is the length of the list.
            CASE WHEN ${only} IS NOT NULL THEN
              (SELECT count(*)::int FROM recipients r WHERE r.message_id = m.id) END AS recipient_total,
            (SELECT value = 'true'::jsonb FROM settings WHERE key = 'suppressHardBounces') AS suppress_hard_bounces
       FROM messages m
      WHERE m.id = ANY(${ids})`),
  );
  return {
    suppressHardBounces: rows[0]?.suppress_hard_bounces ?? false,
    messages: new Map(
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
          recipientTotal: row.recipient_total ?? row.recipients.length,
        },
      ]),
    ),
  };
}

/** What stops recipients from being sent now: suppressed addresses and paused domains. */
export interface Blocks {
  /** Lower-case address → reason. */
  suppressions: Map<string, string>;
  /** Domain → end of the pause (null: until removed). */
  pauses: Map<string, Date | null>;
}

/** The addresses (exact and lower-case) and domains whose blocks matter for these recipients. */
export function blockKeys(recipients: readonly Pick<Recipient, 'address' | 'domain'>[]) {
  return {
    addresses: [...new Set(recipients.flatMap((r) => [r.address, r.address.toLowerCase()]))],
    domains: [...new Set(recipients.map((r) => r.domain))],
  };
}

export interface BlockKeys {
  readonly addresses: readonly string[];
  readonly domains: readonly string[];
  readonly now: Date;
}

/** The two subqueries of `Blocks` as JSON arrays: suppressions not expired, pauses not over. */
export function blocksColumns(keys: BlockKeys): Fragment {
  const now: Param = param(keys.now, 'timestamptz');
  return sql`COALESCE((SELECT json_agg(json_build_object('key', address, 'reason', reason))
                      FROM suppressions
                     WHERE address = ANY(${param([...keys.addresses], 'text[]')})
                       AND (expires_at IS NULL OR expires_at > ${now})), '[]') AS suppressions,
          COALESCE((SELECT json_agg(json_build_object('key', domain, 'until', paused_until))
                      FROM domain_pauses
                     WHERE domain = ANY(${param([...keys.domains], 'text[]')})
                       AND (paused_until IS NULL OR paused_until > ${now})), '[]') AS pauses`;
}

export interface BlocksRow {
  suppressions: { key: string; reason: string }[];
  pauses: { key: string; until: string | null }[];
}

export function blocksOf(row: BlocksRow | undefined): Blocks {
  return {
    suppressions: new Map((row?.suppressions ?? []).map((s) => [s.key.toLowerCase(), s.reason])),
    pauses: new Map((row?.pauses ?? []).map((p) => [p.key, p.until === null ? null : new Date(p.until)])),
  };
}

/** The blocks of these addresses and domains (see Blocks), in one round trip. */
export async function loadBlocks(pool: Pool, keys: BlockKeys): Promise<Blocks> {
  const { rows } = await pool.query<BlocksRow>(statement(sql`SELECT ${blocksColumns(keys)}`));
  return blocksOf(rows[0]);
}
