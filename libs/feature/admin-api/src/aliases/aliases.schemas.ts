import { z } from 'zod';
import { Address, MailboxAddress } from '../common/names';

export const CreateAlias = z
  .strictObject({
    address: MailboxAddress,
    targets: z
      .array(Address)
      .min(1)
      .max(1000)
      .transform((list) => [...new Set(list)])
      .describe(
        'Where mail to the alias goes, each once: a local account (linked when an account has that address, compared case-insensitively), another alias (expanded in turn, at most ALIAS_MAX_DEPTH levels deep; a loop is refused with 550 5.4.6 at RCPT), or an outside address, to which mail is forwarded with an SRS envelope sender (README, "Aliases and forwarding").',
      ),
  })
  .refine((a) => !a.targets.some((t) => t.toLowerCase() === a.address), {
    path: ['targets'],
    message: 'an alias cannot target itself',
  });
export type CreateAlias = z.output<typeof CreateAlias>;

export const AliasParam = z.object({ address: MailboxAddress });

export const AliasView = z.object({
  id: z.uuid(),
  address: z.string(),
  domain: z.string(),
  disabled: z.boolean(),
  targets: z.array(
    z.object({
      address: z.string(),
      kind: z.enum(['account', 'address']).describe('`account`: a local account.'),
    }),
  ),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
