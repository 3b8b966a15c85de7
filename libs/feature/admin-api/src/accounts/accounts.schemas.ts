import { z } from 'zod';
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

export const CreateAccount = z.strictObject({
  address: MailboxAddress,
  password: Password,
  sendAs: SendAsList.default([]),
  disabled: z.boolean().default(false),
});
export type CreateAccount = z.output<typeof CreateAccount>;

export const UpdateAccount = z.strictObject({
  password: Password.optional(),
  sendAs: SendAsList.optional().describe('Replaces the list.'),
  disabled: z.boolean().optional(),
});
export type UpdateAccount = z.output<typeof UpdateAccount>;

export const AccountParam = z.object({ address: MailboxAddress });

export const AccountView = z.object({
  id: z.uuid(),
  address: z.string(),
  domain: z.string(),
  sendAs: z.array(z.string()),
  disabled: z.boolean(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
