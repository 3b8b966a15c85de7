import { parseMessageRate } from '@mta/config';
import { z } from 'zod';
import { DomainName } from '../common/names';

const Timestamp = z.iso.datetime({ offset: true });

/** `10/s`, `50/min`, `1000/h`: the same text and limits as `DELIVERY_MAX_MESSAGE_RATE`. */
const MessageRateText = z
  .string()
  .max(40)
  .refine((v) => typeof parseMessageRate(v) !== 'string', {
    error: (issue) => {
      const text = parseMessageRate(String(issue.input));
      return typeof text === 'string' ? text : 'not a rate';
    },
  })
  .describe('Messages per period across all delivery processes: `10/s`, `50/min`, `1000/h`, `10000/day`.');

const MaxConnections = z
  .number()
  .int()
  .min(1)
  .max(10_000)
  .describe('SMTP sessions delivering to the domain at once, across all delivery processes.');
const MaxMessagesPerConnection = z
  .number()
  .int()
  .min(1)
  .max(100_000)
  .describe('Messages one SMTP session carries before QUIT and a new connection.');

export const ShapingParam = z.object({ domain: DomainName });

/** The body of PUT: every field given; null (or omitted) takes the configured default. */
export const PutShaping = z
  .strictObject({
    maxConnections: MaxConnections.nullable().default(null),
    maxMessagesPerConnection: MaxMessagesPerConnection.nullable().default(null),
    maxMessageRate: MessageRateText.nullable().default(null),
  })
  .refine(
    (v) => v.maxConnections !== null || v.maxMessagesPerConnection !== null || v.maxMessageRate !== null,
    {
      message: 'set at least one limit (DELETE the override to go back to the defaults)',
    },
  );
export type PutShaping = z.output<typeof PutShaping>;

export const ShapingOverrideView = z.object({
  domain: z.string(),
  maxConnections: MaxConnections.nullable(),
  maxMessagesPerConnection: MaxMessagesPerConnection.nullable(),
  maxMessageRate: z.string().nullable().describe('Null: the default (`DELIVERY_MAX_MESSAGE_RATE`).'),
  updatedAt: Timestamp,
});

export const EffectiveShaping = z.object({
  maxConnections: MaxConnections,
  maxMessagesPerConnection: MaxMessagesPerConnection,
  maxMessageRate: z.string().nullable().describe('Null: no rate limit.'),
});

export const DomainShapingView = z.object({
  domain: z.string(),
  override: ShapingOverrideView.nullable().describe('What PUT stored; null: none.'),
  effective: EffectiveShaping.describe('What delivery applies: the override over the configured defaults.'),
});
