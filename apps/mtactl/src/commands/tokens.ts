import { collect, type Family } from '../command';
import { time } from '../output';
import { ROUTES } from '../routes';

export const tokens: Family = {
  summary: 'API tokens (only their hash is stored; a new one is shown once)',
  default: 'list',
  commands: {
    list: {
      usage: 'list',
      summary: 'The tokens, newest first',
      args: { min: 0, max: 0 },
      async run(ctx) {
        const client = await ctx.client();
        const items = await collect((cursor, limit) =>
          client.call(ROUTES.tokensList, { query: { cursor, limit } }),
        );
        if (ctx.out.json) return ctx.out.printJson(items);
        ctx.out.table(
          ['ID', 'NAME', 'PREFIX', 'CREATED', 'LAST USED', 'REVOKED'],
          items.map((t) => [
            t.id,
            t.name,
            t.prefix,
            time(t.createdAt),
            time(t.lastUsedAt),
            time(t.revokedAt),
          ]),
        );
      },
    },
    create: {
      usage: 'create <name>',
      summary: 'Make a token; prints it once on stdout (store it now)',
      args: { min: 1, max: 1 },
      async run(ctx, [name = '']) {
        const token = await (await ctx.client()).call(ROUTES.tokensCreate, { body: { name } });
        if (ctx.out.json) return ctx.out.printJson(token);
        ctx.out.line(token.token);
        ctx.out.note(`token ${token.id} (${token.name}) created; it is not shown again`);
      },
    },
    revoke: {
      usage: 'revoke <id>',
      summary: 'Revoke a token: it stops working at once',
      args: { min: 1, max: 1 },
      async run(ctx, [id = '']) {
        await (await ctx.client()).callNoContent(ROUTES.tokensRevoke, { params: { id } });
        if (ctx.out.json) return ctx.out.printJson({ revoked: id });
        ctx.out.line(`revoked token ${id}`);
      },
    },
  },
};
