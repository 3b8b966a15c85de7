import type pg from 'pg';
import { WebhookEvent, type EventData } from './schemas';

/** A delivery with what its body is made of: its event, recipient, message and attempt. */
export interface DeliveryRow {
  id: string;
  endpoint_id: string;
  status: string;
  attempts: number;
  created_at: Date;
  /** Test deliveries: the body as stored. */
  payload: WebhookEvent | null;
  event_id: string | null;
  type: string | null;
  message_id: string | null;
  queue_id: string | null;
  detail: Record<string, unknown> | null;
  event_at: Date | null;
  recipient: string | null;
  sender: string | null;
  tls_version: string | null;
  tls_cipher: string | null;
  tls_verified: boolean | null;
  tls_policy: string | null;
}

/**
 * The deliveries, in the order given, each with its event and the delivery attempt the event
 * reports (the last one of its recipient at or before the event, for its TLS facts).
 */
export async function loadDeliveries(pool: pg.Pool, ids: readonly string[]): Promise<DeliveryRow[]> {
  const { rows } = await pool.query<DeliveryRow>(
    `SELECT d.id, d.endpoint_id, d.status, d.attempts, d.created_at, d.payload,
            e.id AS event_id, e.type::text AS type, e.message_id, e.queue_id, e.detail, e.created_at AS event_at,
            r.address AS recipient, m.sender,
            a.tls_version, a.tls_cipher, a.tls_verified, a.tls_policy
       FROM unnest($1::uuid[]) WITH ORDINALITY AS wanted(id, n)
       JOIN webhook_deliveries d ON d.id = wanted.id
       LEFT JOIN events e ON e.id = d.event_id
       LEFT JOIN recipients r ON r.id = e.recipient_id
       LEFT JOIN messages m ON m.id = e.message_id
       LEFT JOIN LATERAL (
         SELECT da.tls_version, da.tls_cipher, da.tls_verified, da.tls_policy
           FROM delivery_attempts da
          WHERE da.recipient_id = e.recipient_id AND da.started_at <= e.created_at
          ORDER BY da.started_at DESC LIMIT 1) a ON e.detail ? 'attempt'
      ORDER BY wanted.n`,
    [ids],
  );
  return rows;
}

const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null);

function tlsOf(row: DeliveryRow): EventData['tls'] {
  if (row.tls_policy === null && row.tls_version === null) return null;
  return {
    version: row.tls_version,
    cipher: row.tls_cipher,
    verified: row.tls_verified,
    policy: row.tls_policy,
  };
}

/** The common facts of an event (schemas.ts, EventData). */
function eventData(row: DeliveryRow): EventData {
  const d = row.detail ?? {};
  const code = int(d['replyCode']);
  return {
    messageId: row.message_id,
    queueId: row.queue_id,
    sender: row.sender,
    recipient: row.recipient,
    attempt: int(d['attempt']),
    reply:
      code === null
        ? null
        : { code, enhancedCode: text(d['enhancedCode']), text: text(d['replyText']) ?? '' },
    mxHost: text(d['mxHost']),
    tls: tlsOf(row),
    detail: row.detail,
  };
}

/** What the event type adds (schemas.ts). */
function extraData(type: string, d: Record<string, unknown>): Record<string, unknown> {
  if (type === 'deferred') return { nextAttemptAt: text(d['nextAttemptAt']) };
  if (type === 'failed' || type === 'bounced') return { suppressed: d['suppressed'] === true };
  if (type === 'expired') return { reason: text(d['reason']) };
  return {};
}

/**
 * The body of one delivery: its stored payload (test), else built from its event; checked
 * against the schema of its type, so what is sent is what /api/openapi.json documents. Null
 * when the event is gone.
 */
export function payloadOf(row: DeliveryRow): WebhookEvent | null {
  if (row.payload) return WebhookEvent.parse(row.payload);
  if (!row.event_id || !row.type || !row.event_at) return null;
  return WebhookEvent.parse({
    id: row.event_id,
    type: row.type,
    timestamp: row.event_at.toISOString(),
    data: { ...eventData(row), ...extraData(row.type, row.detail ?? {}) },
  });
}
