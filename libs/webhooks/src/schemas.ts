/**
 * What a webhook POST carries, one zod schema per event type (the `event_type` enum of
 * libs/db through @mta/queue-state's vocabulary, plus `test`). Without Prisma or Nest: the admin
 * API documents them in /api/openapi.json, and mtactl may import them.
 *
 * Body: to an endpoint with `batch` (the default), `{ "events": [...] }` of the events due
 * together (WebhookBatch), signed over the whole body; with `batch: false`, one event per POST,
 * `{ "id", "type", "timestamp", "data" }` (the Standard Webhooks layout). `id` is the event's id, the same for every
 * endpoint and every retry: receivers deduplicate on it (delivery is at least once).
 */
import { z } from 'zod';
import { EventType } from '@mta/queue-state/vocabulary';

/** The event types an endpoint may ask for: every event type, and `test` (POST .../test). */
export const WEBHOOK_EVENT_TYPES = [...Object.values(EventType), 'test'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
export const WebhookEventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES);

const Reply = z
  .object({
    code: z.number().int().describe('SMTP reply code, e.g. 250, 451, 550.'),
    enhancedCode: z.string().nullable().describe('RFC 3463 enhanced status code, e.g. `5.1.1`.'),
    text: z.string().describe('The remote (or our own) reply text.'),
  })
  .describe('The SMTP reply that decided the outcome.');

const Tls = z
  .object({
    version: z.string().nullable().describe('e.g. `TLSv1.3`; null: the session was not encrypted.'),
    cipher: z.string().nullable(),
    verified: z.boolean().nullable().describe('Whether the peer certificate was verified.'),
    policy: z.string().nullable().describe('Outbound TLS policy: `opportunistic`, `mta-sts`, `dane`...'),
  })
  .describe(
    'TLS of the delivery attempt the event is about; null when it has none (local delivery, no attempt).',
  );

/** The facts every event of a message carries. */
export const EventData = z.object({
  messageId: z.uuid().nullable().describe('Message UUID; null once the message is deleted.'),
  queueId: z.string().nullable().describe('Queue id, as in `250 2.0.0 OK: queued as <queue id>`.'),
  sender: z.string().nullable().describe('Envelope sender (`""` for `<>`); null once deleted.'),
  recipient: z.string().nullable().describe('Envelope recipient the event is about, if one.'),
  attempt: z.number().int().nullable().describe('Delivery attempt number, for delivery outcomes.'),
  reply: Reply.nullable(),
  mxHost: z.string().nullable().describe('Host the attempt went to.'),
  tls: Tls.nullable(),
  detail: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe('The event row as logged (GET /api/v1/events).'),
});
export type EventData = z.output<typeof EventData>;

const extra: Partial<Record<WebhookEventType, z.ZodObject>> = {
  deferred: z.object({
    nextAttemptAt: z.iso.datetime().nullable().describe('When the next attempt is due.'),
  }),
  failed: z.object({ suppressed: z.boolean().describe('The address went on the suppression list.') }),
  bounced: z.object({ suppressed: z.boolean().describe('The address went on the suppression list.') }),
  expired: z.object({ reason: z.string().nullable() }),
};

const TestData = z.object({ message: z.string(), endpointId: z.uuid() });

function eventSchema(type: WebhookEventType) {
  const data = type === 'test' ? TestData : EventData.extend(extra[type]?.shape ?? {});
  return z
    .object({
      id: z.uuid().describe('Event id: the same for every endpoint and retry; deduplicate on it.'),
      type: z.literal(type),
      timestamp: z.iso.datetime().describe('When the event happened.'),
      data,
    })
    .describe(`The body of a \`${type}\` webhook.`);
}

/** One schema per event type, keyed by type (documented as `WebhookEvent_<type>`). */
export const WEBHOOK_EVENT_SCHEMAS = Object.fromEntries(
  WEBHOOK_EVENT_TYPES.map((type) => [type, eventSchema(type)]),
) as Record<WebhookEventType, ReturnType<typeof eventSchema>>;

/** Any webhook body. */
export const WebhookEvent = z.discriminatedUnion(
  'type',
  WEBHOOK_EVENT_TYPES.map((type) => WEBHOOK_EVENT_SCHEMAS[type]) as [
    ReturnType<typeof eventSchema>,
    ...ReturnType<typeof eventSchema>[],
  ],
);
export type WebhookEvent = z.output<typeof WebhookEvent>;

/** The body of a POST to an endpoint that takes batches: its due events, oldest first. */
export const WebhookBatch = z
  .object({
    events: z
      .array(WebhookEvent)
      .min(1)
      .describe(
        '1 to WEBHOOK_BATCH_MAX events; each keeps its `id`: deduplicate on it, not on `webhook-id`.',
      ),
  })
  .describe(
    'The body of a webhook POST to an endpoint with `batch` (the default), signed (Standard Webhooks) over the whole body. Sent again whole if the answer is not 2xx.',
  );
export type WebhookBatch = z.output<typeof WebhookBatch>;
