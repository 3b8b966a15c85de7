/**
 * Builds a `DeliveryRequest` for one delivery job from PostgreSQL: the message's envelope
 * (sender, SMTPUTF8, 8BITMIME, DSN RET/ENVID), the job's recipients (NOTIFY, ORCPT) and a body
 * source that streams `message_chunks` afresh on every call. The body never goes through Redis.
 *
 * The query is @mta/queue-state's `loadDeliveryRows` (the hot-path SQL lives there, in one
 * folder): for each job of a batch, the message, the job's recipients, the pauses of their
 * domains and, for a message of at most INLINE_BODY_BYTES, its body.
 */
import { decodeXtext } from '@mta/smtp-protocol';
import { GroupCommit } from '@mta/db';
import { MessageState, isWaiting, loadDeliveryRows, type DeliveryLoadRow } from '@mta/queue-state';
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

/**
 * A message up to this size comes with the same query and is held in memory for the delivery;
 * a bigger one is streamed from `message_chunks` on every attempt (and never held whole).
 */
export const INLINE_BODY_BYTES = 256 * 1024;

/** Loads the requests of several jobs in one query (the same rules as one job, see DeliveryJobRef), in order. */
export async function loadDeliveryRequests(
  pool: Pick<pg.Pool, 'query'>,
  jobs: readonly DeliveryJobRef[],
): Promise<RequestLoad[]> {
  const rows = await loadDeliveryRows(
    pool,
    jobs.map((j) => ({
      messageId: j.messageId,
      recipientIds: j.recipientIds,
      checkPauses: j.attempt !== undefined && j.route !== 'local',
    })),
    INLINE_BODY_BYTES,
  );
  return jobs.map((job, i) => requestFrom(pool, job, rows[i]));
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
 * less CPU per message than two queries at a time (bench/README.md, "Measurements behind the code").
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
  message: DeliveryLoadRow | undefined,
): RequestLoad {
  if (!message) return { ok: false, queueId: null, reason: `message ${job.messageId} does not exist` };
  const queueId = message.queue_id;

  let found = message.recipients;
  if (job.attempt !== undefined) {
    if (message.state !== MessageState.queued)
      return { ok: false, queueId, reason: `message ${message.state}` };
    const attempt = job.attempt;
    found = found.filter((r) => isWaiting(r.status) && r.attempts < attempt);
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
