import { z } from 'zod';
import { WebhookEventTypeSchema } from '@mta/webhooks/schemas';

const Timestamp = z.iso.datetime();

const Domain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(
    /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)+$/,
    'expected a domain name',
  )
  .describe("Only events whose recipient's or sender's domain is this.");

const Sender = z.email().max(254).toLowerCase().describe('Only events of mail with this envelope sender.');

export const CreateWebhook = z.strictObject({
  url: z
    .string()
    .max(2048)
    .describe('Where events are POSTed: http:// or https://, a public address unless WEBHOOK_ALLOW_PRIVATE.'),
  eventTypes: z.array(WebhookEventTypeSchema).min(1).describe('The event types to send.'),
  description: z.string().trim().max(500).optional(),
  domain: Domain.optional(),
  sender: Sender.optional(),
  enabled: z.boolean().default(true),
  batch: z
    .boolean()
    .default(true)
    .describe(
      'Send the events due together in one POST, `{"events": [...]}` (the `WebhookBatch` schema, up to WEBHOOK_BATCH_MAX; one event when one is due), the default; false: one event per POST, the bare `WebhookEvent_<type>`.',
    ),
});
export type CreateWebhook = z.output<typeof CreateWebhook>;

export const UpdateWebhook = z.strictObject({
  url: CreateWebhook.shape.url.optional(),
  eventTypes: CreateWebhook.shape.eventTypes.optional(),
  description: z.string().trim().max(500).nullable().optional(),
  domain: Domain.nullable().optional(),
  sender: Sender.nullable().optional(),
  batch: z.boolean().optional().describe('Several events per POST (`{"events": [...]}`) or one.'),
  enabled: z
    .boolean()
    .optional()
    .describe('`true` enables a disabled endpoint again (and clears its reason).'),
});
export type UpdateWebhook = z.output<typeof UpdateWebhook>;

export const WebhookView = z.object({
  id: z.uuid(),
  url: z.string(),
  description: z.string().nullable(),
  eventTypes: z.array(WebhookEventTypeSchema),
  domain: z.string().nullable(),
  sender: z.string().nullable(),
  batch: z.boolean().describe('Several events per POST, as `{"events": [...]}` (WebhookBatch).'),
  enabled: z.boolean(),
  disabledReason: z
    .string()
    .nullable()
    .describe('Why it was disabled (by an administrator, or failing for the whole retry window).'),
  disabledAt: Timestamp.nullable(),
  failingSince: Timestamp.nullable().describe('Since when every attempt has failed; null after a success.'),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const CreatedWebhook = WebhookView.extend({
  secret: z
    .string()
    .describe(
      'The signing secret (`whsec_...`, Standard Webhooks). Shown only in this response: store it now.',
    ),
});

export const WebhookAttemptView = z.object({
  at: Timestamp,
  statusCode: z.number().int().nullable().describe('HTTP status; null when no answer came.'),
  latencyMs: z.number().int(),
  error: z.string().nullable(),
});

export const WebhookDeliveryView = z.object({
  id: z.uuid().describe('Also the `webhook-id` header of its requests.'),
  eventId: z.uuid().nullable(),
  eventType: WebhookEventTypeSchema,
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  nextAttemptAt: Timestamp.nullable().describe('When it is due (pending only).'),
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  deliveredAt: Timestamp.nullable(),
  createdAt: Timestamp,
  attemptLog: z.array(WebhookAttemptView).describe('Every attempt, oldest first; the successful one last.'),
});

export const ListDeliveriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).describe('Items per page (1-100).'),
  cursor: z.string().max(1024).optional().describe('`nextCursor` of the previous page.'),
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
});
export type ListDeliveriesQuery = z.output<typeof ListDeliveriesQuery>;

export const WebhookIdParam = z.object({ id: z.uuid() });
export const DeliveryParams = z.object({ id: z.uuid(), deliveryId: z.uuid() });
