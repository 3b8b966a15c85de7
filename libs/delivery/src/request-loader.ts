/**
 * Builds a `DeliveryRequest` for one delivery job from PostgreSQL: the message's envelope
 * (sender, SMTPUTF8, 8BITMIME, DSN RET/ENVID), the job's recipients (NOTIFY, ORCPT) and a body
 * source that streams `message_chunks` afresh on every call. The body never goes through Redis.
 *
 * One query on the plain pg pool reads, for each job of a batch, the message, the job's recipients, the pauses of
 * their domains and, for a message of at most INLINE_BODY_BYTES, its body as one bytea (an
 * array of chunks would be parsed character by character by pg's array parser: 10 % of the
 * worker's CPU in bench/e2e). This runs for every delivery, and Prisma's per-query compile
 * would cost more than the query (see @mta/queue-manager's message-store.ts).
 */
import { decodeXtext } from '@mta/smtp-protocol';
import type { DsnNotify, DsnRet, MessageState, RecipientStatus } from '@mta/db';
import { GroupCommit } from '@mta/db';
import type pg from 'pg';
import { bodyFromBuffer, bodyFromDatabase } from './body';
import type { DeliveryRecipient, DeliveryRequest } from './contract';

export type RequestLoad =
  | { readonly ok: true; readonly queueId: string; readonly request: DeliveryRequest }
  /** Nothing to deliver: the message is gone or not queued, or no recipient waits for this attempt. */
  | { readonly ok: false; readonly queueId: string | null; readonly reason: string };

export interface DeliveryJobRef {
  readonly messageId: string;
  readonly recipientIds: readonly string[];
  readonly destination?: string;
  /**
   * With these, only what this attempt may still deliver is loaded: the message must be
   * `queued`, a recipient must wait (`queued`/`deferred`) with fewer attempts than `attempt`, and
   * for routes other than `local` its domain must not be paused (`domain_pauses`). Without
   * them (tests, tools), every recipient of the job that exists.
   */
  readonly attempt?: number;
  readonly route?: 'local' | 'remote' | 'relay';
}

const WAITING: readonly RecipientStatus[] = ['queued', 'deferred'];

/**
 * A message up to this size comes with the same query and is held in memory for the delivery;
 * a bigger one is streamed from `message_chunks` on every attempt (and never held whole).
 */
export const INLINE_BODY_BYTES = 256 * 1024;

interface Row {
  queue_id: string;
  state: MessageState;
  sender: string;
  size: number;
  smtp_utf8: boolean;
  eight_bit_mime: boolean;
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
  paused: string[];
  /** The body, when it is small enough to come with the rest (INLINE_BODY_BYTES). */
  body: Buffer | null;
}

/**
 * Loads the requests of several jobs in one query (the same rules as one job, see DeliveryJobRef),
 * in the order given. Unnamed, so that it is planned for the tables as they are, not kept on a
 * plan made while they were small (see libs/queue-manager/src/message-store.ts).
 */
export async function loadDeliveryRequests(
  pool: Pick<pg.Pool, 'query'>,
  jobs: readonly DeliveryJobRef[],
): Promise<RequestLoad[]> {
  const { rows } = await pool.query<Row & { ord: number }>({
    text: `SELECT j.ord::int AS ord, m.queue_id, m.state, m.sender, m.size, m.smtp_utf8, m.eight_bit_mime, m.require_tls,
            m.dsn_ret, m.dsn_envid, m.quarantine,
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
            CASE WHEN m.size <= $4 THEN (
              SELECT string_agg(c.data, ''::bytea ORDER BY c.seq) FROM message_chunks c WHERE c.message_id = m.id
            ) END AS body
       FROM (SELECT x.message_id, x.check_pauses, x.ord,
                    ARRAY(SELECT jsonb_array_elements_text(x.rids::jsonb))::uuid[] AS rids
               FROM unnest($1::uuid[], $2::text[], $3::bool[]) WITH ORDINALITY AS x(message_id, rids, check_pauses, ord)) j
       JOIN messages m ON m.id = j.message_id`,
    values: [
      jobs.map((j) => j.messageId),
      jobs.map((j) => JSON.stringify(j.recipientIds)),
      jobs.map((j) => j.attempt !== undefined && j.route !== 'local'),
      INLINE_BODY_BYTES,
    ],
  });
  const byOrd = new Map(rows.map((row) => [row.ord, row]));
  return jobs.map((job, i) => requestFrom(pool, job, byOrd.get(i + 1)));
}

/** One job's request (see loadDeliveryRequests). */
export async function loadDeliveryRequest(
  pool: Pick<pg.Pool, 'query'>,
  job: DeliveryJobRef,
): Promise<RequestLoad> {
  const [load] = await loadDeliveryRequests(pool, [job]);
  return load;
}

/**
 * Loads the requests of the jobs that start at the same time in one query (GroupCommit from
 * @mta/db: a lone job goes at once; under load, the jobs that arrive while a query runs share
 * the next one). One query at a time: it takes a millisecond or two, and bigger batches cost
 * less (bench/e2e, quick runs: 4.50-4.59 ms of CPU per message against 4.81-5.14 with two).
 */
export class RequestLoader {
  private readonly batch: GroupCommit<DeliveryJobRef, RequestLoad>;

  constructor(pool: Pick<pg.Pool, 'query'>) {
    this.batch = new GroupCommit((jobs) => loadDeliveryRequests(pool, jobs), {
      maxInFlight: 1,
      maxItems: 32,
    });
  }

  load(job: DeliveryJobRef): Promise<RequestLoad> {
    return this.batch.submit(job);
  }
}

function requestFrom(
  pool: Pick<pg.Pool, 'query'>,
  job: DeliveryJobRef,
  message: Row | undefined,
): RequestLoad {
  if (!message) return { ok: false, queueId: null, reason: `message ${job.messageId} does not exist` };
  const queueId = message.queue_id;

  let found = message.recipients;
  if (job.attempt !== undefined) {
    if (message.state !== 'queued') return { ok: false, queueId, reason: `message ${message.state}` };
    const attempt = job.attempt;
    found = found.filter((r) => WAITING.includes(r.status) && r.attempts < attempt);
    if (found.length === 0) return { ok: false, queueId, reason: 'no recipient waits for this attempt' };
    const paused = new Set(message.paused);
    found = found.filter((r) => !paused.has(r.domain.toLowerCase()));
    if (found.length === 0) return { ok: false, queueId, reason: 'destination paused' };
  }
  if (found.length === 0)
    return { ok: false, queueId, reason: `no recipient of the job exists for ${job.messageId}` };

  // In job order.
  const byId = new Map(found.map((r) => [r.id, r]));
  const recipients: DeliveryRecipient[] = job.recipientIds.flatMap((id) => {
    const r = byId.get(id);
    if (!r) return [];
    const orcpt = orcptAddress(r.dsnOrcpt);
    return [
      {
        id: r.id,
        address: r.address,
        ...(r.dsnNotify.length ? { notify: r.dsnNotify } : {}),
        ...(orcpt ? { orcpt } : {}),
      },
    ];
  });
  return {
    ok: true,
    queueId,
    request: {
      messageId: job.messageId,
      destination: job.destination,
      envelope: {
        sender: message.sender,
        smtpUtf8: message.smtp_utf8,
        eightBitMime: message.eight_bit_mime,
        ...(message.require_tls ? { requireTls: true } : {}),
        ...(message.dsn_ret || message.dsn_envid
          ? { dsn: { ret: message.dsn_ret ?? undefined, envid: message.dsn_envid ?? undefined } }
          : {}),
      },
      recipients,
      body: message.body ? bodyFromBuffer(message.body) : bodyFromDatabase(pool, job.messageId),
      size: message.size,
      ...(message.quarantine ? { quarantine: true } : {}),
    },
  };
}

/**
 * `recipients.dsn_orcpt` holds `addr-type;xtext` (RFC 3461 §4.2); the client wants the plain
 * address and encodes it again. Only `rfc822` types are passed on.
 */
function orcptAddress(stored: string | null): string | undefined {
  if (!stored) return undefined;
  const semi = stored.indexOf(';');
  if (semi === -1 || stored.slice(0, semi).toLowerCase() !== 'rfc822') return undefined;
  return decodeXtext(stored.slice(semi + 1)) ?? undefined;
}
