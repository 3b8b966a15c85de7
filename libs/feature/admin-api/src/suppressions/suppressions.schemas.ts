import { z } from 'zod';
import { Address } from '../common/names';
import { PageQuery } from '../common/pagination';

const Timestamp = z.iso.datetime({ offset: true });

export const CreateSuppression = z.strictObject({
  address: Address,
  reason: z.string().trim().min(1).max(500).default('manual').describe('Why, e.g. `complaint` or `manual`.'),
  expiresAt: Timestamp.optional().describe('Sending resumes after this time; never when omitted.'),
});
export type CreateSuppression = z.output<typeof CreateSuppression>;

export const ListSuppressionsQuery = PageQuery.extend({
  includeExpired: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('Also list entries whose expiry has passed.'),
});
export type ListSuppressionsQuery = z.output<typeof ListSuppressionsQuery>;

export const SuppressionParam = z.object({ address: Address });

export const SuppressionView = z.object({
  id: z.uuid(),
  address: z.string(),
  reason: z.string(),
  queueId: z
    .string()
    .nullable()
    .describe('The message whose hard bounce added the entry (suppressHardBounces); null when added here.'),
  expiresAt: Timestamp.nullable(),
  createdAt: Timestamp,
});
