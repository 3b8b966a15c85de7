import { z } from 'zod';
import { Address } from '../common/names';

export const CreateAlias = z
  .strictObject({
    address: Address,
    targets: z
      .array(Address)
      .min(1)
      .max(1000)
      .transform((list) => [...new Set(list)])
      .describe('Accounts (by address) or outside addresses the alias forwards to.'),
  })
  .refine((a) => !a.targets.includes(a.address), {
    path: ['targets'],
    message: 'an alias cannot target itself',
  });
export type CreateAlias = z.output<typeof CreateAlias>;

export const AliasParam = z.object({ address: Address });

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
