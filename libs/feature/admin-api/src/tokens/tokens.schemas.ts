import { z } from 'zod';

export const CreateToken = z.strictObject({
  name: z.string().trim().min(1).max(200).describe('What the token is for, e.g. `ci deploy`.'),
});
export type CreateToken = z.output<typeof CreateToken>;

export const TokenView = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string().describe('The start of the token, to tell tokens apart.'),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
});

export const CreatedToken = TokenView.extend({
  token: z.string().describe('The token. Shown only in this response: store it now.'),
});

export const TokenIdParam = z.object({ id: z.uuid() });
