import { z } from 'zod';
import { MESSAGE_STATES, RECIPIENT_STATUSES } from '@mta/queue-state/vocabulary';
import { DomainName } from '../common/names';
import { PageQuery } from '../common/pagination';

const Timestamp = z.iso.datetime({ offset: true });

export const DomainParam = z.object({ domain: DomainName });

export const PauseDomain = z
  .strictObject({
    reason: z.string().max(500).optional(),
    until: Timestamp.optional().describe('Resume by itself at this time; paused until resumed when omitted.'),
  })
  .default({});
export type PauseDomain = z.output<typeof PauseDomain>;

export const PauseView = z.object({
  domain: z.string(),
  reason: z.string().nullable(),
  pausedUntil: Timestamp.nullable(),
  createdAt: Timestamp,
});

/** A count for each of these states (@mta/queue-state's vocabulary). */
const countsOf = (states: readonly string[]) =>
  z.object(Object.fromEntries(states.map((s) => [s, z.number().int()])));

const StatusCounts = countsOf(RECIPIENT_STATUSES);

export const DestinationView = z.object({
  domain: z.string(),
  queued: z.number().int(),
  deferred: z.number().int(),
  held: z.number().int(),
  total: z.number().int().describe('Recipients not final yet.'),
  paused: z.boolean(),
});

export const QueueSummary = z.object({
  recipients: StatusCounts.describe('Recipients by status.'),
  messages: countsOf(MESSAGE_STATES).describe('Messages by state.'),
  destinations: z
    .array(DestinationView)
    .describe('The 20 destination domains with the most recipients waiting.'),
  oldest: z
    .object({ queueId: z.string(), receivedAt: Timestamp, ageSeconds: z.number().int() })
    .nullable()
    .describe('The oldest message not done.'),
  paused: z.array(PauseView),
});

export const QueueResumeView = z.object({
  domain: z.string(),
  resumed: z.boolean(),
  enqueued: z.array(z.string()),
  enqueueError: z.string().optional(),
});

export const DestinationsQuery = PageQuery;
