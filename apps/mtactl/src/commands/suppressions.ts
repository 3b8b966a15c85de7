import { collect, flag, str, type Family } from '../command';
import { time } from '../output';
import { ROUTES } from '../routes';

export const suppressions: Family = {
  summary: 'Addresses delivery must not send to',
  default: 'list',
  commands: {
    list: {
      usage: 'list [--expired]',
      summary: 'The suppressed addresses (--expired: also those whose expiry passed)',
      options: { expired: { type: 'boolean' } },
      args: { min: 0, max: 0 },
      async run(ctx, _args, options) {
        const client = await ctx.client();
        const includeExpired = flag(options, 'expired') ? 'true' : 'false';
        const items = await collect((cursor, limit) =>
          client.call(ROUTES.suppressionsList, { query: { includeExpired, cursor, limit } }),
        );
        if (ctx.out.json) return ctx.out.printJson(items);
        ctx.out.table(
          ['ADDRESS', 'REASON', 'EXPIRES', 'CREATED'],
          items.map((s) => [
            s.address,
            s.reason,
            s.expiresAt ? time(s.expiresAt) : 'never',
            time(s.createdAt),
          ]),
        );
      },
    },
    add: {
      usage: 'add <address> [--reason TEXT] [--expires ISO-TIME]',
      summary: 'Suppress an address',
      options: { reason: { type: 'string' }, expires: { type: 'string' } },
      args: { min: 1, max: 1 },
      async run(ctx, [address = ''], options) {
        const entry = await (
          await ctx.client()
        ).call(ROUTES.suppressionsCreate, {
          body: { address, reason: str(options, 'reason'), expiresAt: str(options, 'expires') },
        });
        if (ctx.out.json) return ctx.out.printJson(entry);
        ctx.out.line(`suppressed ${entry.address} (${entry.reason})`);
      },
    },
    delete: {
      usage: 'delete <address>',
      summary: 'Send to an address again',
      args: { min: 1, max: 1 },
      async run(ctx, [address = '']) {
        await (await ctx.client()).callNoContent(ROUTES.suppressionsDelete, { params: { address } });
        if (ctx.out.json) return ctx.out.printJson({ deleted: address });
        ctx.out.line(`${address} is no longer suppressed`);
      },
    },
  },
};
