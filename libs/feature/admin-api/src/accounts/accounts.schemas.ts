import { z } from 'zod';
import { AccountRateLimits } from '@mta/policy/schemas';
import { DomainName, MailboxAddress } from '../common/names';

const Password = z
  .string()
  .min(8, 'at least 8 characters')
  .max(1024)
  .describe('Never returned; stored as an scrypt hash.');

/** An envelope sender an account may use: an address, or a whole domain as `@example.com`. */
const WholeDomain = z
  .string()
  .regex(/^@/)
  .transform((value) => value.slice(1))
  .pipe(DomainName)
  .transform((domain) => `@${domain}`);
const SendAs = z.union([WholeDomain, MailboxAddress]);

export const SendAsList = z
  .array(z.string().max(320))
  .max(100)
  .pipe(z.array(SendAs))
  .transform((list) => [...new Set(list)])
  .describe(
    'Further addresses the account may use as envelope sender (MAIL FROM) and header From at submission, besides its own: an address, or `@domain` for every address of that domain. Stored and compared in lower case. Any other sender gets 553 5.7.1.',
  );

const RateLimits = AccountRateLimits.describe(
  'Submission rate limits of this account: messages and recipients per hour and per day, each a whole number (0: no limit) or null for the default of the configuration (SUBMISSION_*). One more message gets 450 4.7.1 at MAIL, one more recipient at RCPT. Takes effect within 5 s.',
);

export const CreateAccount = z.strictObject({
  address: MailboxAddress,
  password: Password,
  sendAs: SendAsList.default([]),
  disabled: z.boolean().default(false),
  rateLimits: RateLimits.optional(),
});
export type CreateAccount = z.output<typeof CreateAccount>;

export const UpdateAccount = z.strictObject({
  password: Password.optional(),
  sendAs: SendAsList.optional().describe('Replaces the list.'),
  disabled: z.boolean().optional(),
  rateLimits: RateLimits.nullable().optional().describe('Replaces the limits; null: all defaults.'),
});
export type UpdateAccount = z.output<typeof UpdateAccount>;

export const AccountParam = z.object({ address: MailboxAddress });

export const AccountView = z.object({
  id: z.uuid(),
  address: z.string(),
  domain: z.string(),
  sendAs: z.array(z.string()),
  disabled: z.boolean(),
  rateLimits: z.object({
    messagesPerHour: z.number().int().nullable(),
    messagesPerDay: z.number().int().nullable(),
    recipientsPerHour: z.number().int().nullable(),
    recipientsPerDay: z.number().int().nullable(),
  }),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
