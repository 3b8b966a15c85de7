import { z } from 'zod';
import { EventType as EventTypes } from '@mta/queue-state/vocabulary';
import { PageQuery } from '../common/pagination';

const Timestamp = z.iso.datetime({ offset: true });

/** The event types of the schema (@mta/queue-state's vocabulary). */
export const EventType = z.enum(EventTypes);

export const ListEventsQuery = PageQuery.extend({
  messageId: z
    .string()
    .regex(/^(?:[0-9A-Za-z]{16}|[0-9a-fA-F-]{36})$/, 'expected a queue id or a message UUID')
    .optional()
    .describe('Queue id or message UUID.'),
  type: EventType.optional(),
  since: Timestamp.optional().describe('At or after (ISO 8601).'),
  until: Timestamp.optional().describe('Before (ISO 8601).'),
});
export type ListEventsQuery = z.output<typeof ListEventsQuery>;

export const EventView = z.object({
  id: z.uuid(),
  type: EventType,
  messageId: z.uuid().nullable().describe('Null once the message is deleted.'),
  queueId: z.string().nullable(),
  recipient: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).nullable(),
  createdAt: Timestamp,
});

export const StreamEventsQuery = z.object({
  messageId: ListEventsQuery.shape.messageId,
  type: EventType.optional(),
  since: Timestamp.optional().describe(
    'Send the events from this time first (ISO 8601); default: only new ones.',
  ),
});
export type StreamEventsQuery = z.output<typeof StreamEventsQuery>;
