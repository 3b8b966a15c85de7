/**
 * The read of every delivery: for each job of a batch, the message, the job's recipients, the
 * pauses of their domains and, for a message of at most `inlineBodyBytes`, its body as one bytea
 * (an array of chunks would be parsed character by character by pg's array parser). One query
 * for the jobs that start together (libs/delivery's RequestLoader).
 */
import type { DsnNotify, DsnRet, MessageState, RecipientStatus } from '@mta/db';
import { param, sql, statement } from './builder';
import type { Pool } from './load';

export interface DeliveryLoadJob {
  readonly messageId: string;
  readonly recipientIds: readonly string[];
  /** Whether the pauses of the recipients' domains matter (routes other than `local`). */
  readonly checkPauses: boolean;
}

export interface DeliveryLoadRow {
  queue_id: string;
  state: MessageState;
  sender: string;
  size: number;
  smtp_utf8: boolean;
  eight_bit_mime: boolean;
  /** MAIL FROM ... REQUIRETLS (RFC 8689). */
  require_tls: boolean;
  dsn_ret: DsnRet | null;
  dsn_envid: string | null;
  quarantine: boolean;
  recipients: {
    id: string;
    address: string;
    domain: string;
    status: RecipientStatus;
    attempts: number;
    dsnNotify: DsnNotify[];
    dsnOrcpt: string | null;
  }[];
  /** Lower-case domains of the job's recipients that are paused now. */
  paused: string[];
  /** The body, when it is small enough to come with the rest. */
  body: Buffer | null;
}

/** The rows of these jobs, in their order (undefined: the message does not exist). */
export async function loadDeliveryRows(
  pool: Pool,
  jobs: readonly DeliveryLoadJob[],
  inlineBodyBytes: number,
): Promise<(DeliveryLoadRow | undefined)[]> {
  const j = {
    messageId: param(
      jobs.map((x) => x.messageId),
      'uuid[]',
    ),
    rids: param(
      jobs.map((x) => JSON.stringify(x.recipientIds)),
      'text[]',
    ),
    checkPauses: param(
      jobs.map((x) => x.checkPauses),
      'bool[]',
    ),
  };
  const { rows } = await pool.query<DeliveryLoadRow & { ord: number }>(
    statement(sql`SELECT j.ord::int AS ord, m.queue_id, m.state, m.sender, m.size, m.smtp_utf8, m.eight_bit_mime,
            m.require_tls, m.dsn_ret, m.dsn_envid, m.quarantine,
            COALESCE((
              SELECT json_agg(json_build_object(
                'id', r.id, 'address', r.address, 'domain', r.domain, 'status', r.status,
                'attempts', r.attempts, 'dsnNotify', COALESCE(r.dsn_notify, '{}'), 'dsnOrcpt', r.dsn_orcpt))
                FROM recipients r
               WHERE r.message_id = m.id AND r.id = ANY(j.rids)
            ), '[]') AS recipients,
            COALESCE((
              SELECT json_agg(p.domain)
                FROM domain_pauses p
               WHERE j.check_pauses AND (p.paused_until IS NULL OR p.paused_until > now())
                 AND p.domain IN (SELECT lower(r.domain) FROM recipients r
                                   WHERE r.message_id = m.id AND r.id = ANY(j.rids))
            ), '[]') AS paused,
            CASE WHEN m.size <= ${param(inlineBodyBytes, 'int')} THEN (
              SELECT string_agg(c.data, ''::bytea ORDER BY c.seq) FROM message_chunks c WHERE c.message_id = m.id
            ) END AS body
       FROM (SELECT x.message_id, x.check_pauses, x.ord,
                    ARRAY(SELECT jsonb_array_elements_text(x.rids::jsonb))::uuid[] AS rids
               FROM unnest(${j.messageId}, ${j.rids}, ${j.checkPauses})
                    WITH ORDINALITY AS x(message_id, rids, check_pauses, ord)) j
       JOIN messages m ON m.id = j.message_id`),
  );
  const byOrd = new Map(rows.map((row) => [row.ord, row]));
  return jobs.map((_, i) => byOrd.get(i + 1));
}
