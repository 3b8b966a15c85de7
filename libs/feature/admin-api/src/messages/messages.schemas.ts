import { z } from 'zod';
import { PageQuery } from '../common/pagination';

export const RecipientStatus = z.enum(['queued', 'deferred', 'delivered', 'failed', 'bounced', 'held']);

const Timestamp = z.iso.datetime({ offset: true });

export const ListMessagesQuery = PageQuery.extend({
  status: RecipientStatus.optional().describe('Messages with at least one recipient in this status.'),
  sender: z.string().max(320).optional().describe('Exact envelope sender; `<>` for the null sender.'),
  recipient: z.string().max(320).optional().describe('Exact envelope recipient.'),
  domain: z.string().max(253).optional().describe('Messages with a recipient in this domain.'),
  since: Timestamp.optional().describe('Received at or after (ISO 8601).'),
  until: Timestamp.optional().describe('Received before (ISO 8601).'),
});
export type ListMessagesQuery = z.output<typeof ListMessagesQuery>;

export const MessageParam = z.object({
  id: z
    .string()
    .regex(/^(?:[0-9A-Za-z]{16}|[0-9a-fA-F-]{36})$/, 'expected a queue id or a message UUID')
    .describe('Queue id (as in logs and SMTP replies) or message UUID.'),
});

export const DeleteMessageQuery = z.object({
  bounce: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe(
      '`true`: fail the undelivered recipients so the sender gets a bounce; `false`: delete silently.',
    ),
});

const RecipientView = z.object({
  id: z.uuid(),
  address: z.string(),
  domain: z.string(),
  route: z.enum(['local', 'remote', 'relay']).nullable(),
  status: RecipientStatus,
  attempts: z.number().int(),
  nextAttemptAt: Timestamp.nullable(),
  lastAttemptAt: Timestamp.nullable(),
  lastReply: z
    .object({
      code: z.number().int().nullable(),
      enhanced: z.string().nullable(),
      text: z.string().nullable(),
    })
    .nullable(),
});

export const MessageSummary = z.object({
  id: z.uuid(),
  queueId: z.string(),
  sender: z.string(),
  source: z.enum(['mx', 'submission', 'bounce']),
  state: z.enum(['received', 'queued', 'held', 'done']),
  size: z.number().int(),
  receivedAt: Timestamp,
  subject: z.string().nullable(),
  from: z.string().nullable(),
  messageIdHeader: z.string().nullable(),
  recipientCount: z.number().int(),
  recipients: z.array(z.object({ address: z.string(), status: RecipientStatus })).describe('The first 100.'),
});

export const MessageDetail = MessageSummary.omit({ recipients: true }).extend({
  client: z.object({
    address: z.string().nullable(),
    hostname: z.string().nullable(),
    helo: z.string().nullable(),
    authUser: z.string().nullable(),
  }),
  dsn: z.object({ ret: z.enum(['FULL', 'HDRS']).nullable(), envid: z.string().nullable() }),
  smtpUtf8: z.boolean(),
  eightBitMime: z.boolean(),
  headers: z
    .array(z.object({ name: z.string(), value: z.string() }))
    .describe('The header fields, unfolded.'),
  recipients: z.array(RecipientView),
  attempts: z.array(
    z.object({
      id: z.uuid(),
      recipient: z.string(),
      startedAt: Timestamp,
      finishedAt: Timestamp.nullable(),
      mxHost: z.string().nullable(),
      ip: z.string().nullable(),
      port: z.number().int().nullable(),
      reply: z.object({
        code: z.number().int().nullable(),
        enhanced: z.string().nullable(),
        text: z.string().nullable(),
      }),
      tls: z
        .object({ version: z.string(), cipher: z.string().nullable(), verified: z.boolean().nullable() })
        .nullable(),
    }),
  ),
});

export const QueueActionResult = z.object({
  message: MessageSummary,
  changed: z.number().int().describe('Recipients whose status changed.'),
  enqueued: z.array(z.string()).describe('Jobs put on the queue (ids).'),
  enqueueError: z.string().optional().describe('Redis did not take the jobs; the reconciler will.'),
});
