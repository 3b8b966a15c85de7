import { collect, type Family } from '../command';
import { time } from '../output';
import { ROUTES } from '../routes';

export const aliases: Family = {
  summary: 'Addresses that deliver to accounts, other aliases or outside addresses',
  commands: {
    add: {
      usage: 'add <address> <target>...',
      summary: 'Create an alias delivering to each target',
      args: { min: 2, max: 1000 },
      async run(ctx, [address = '', ...targets]) {
        const alias = await (await ctx.client()).call(ROUTES.aliasesCreate, { body: { address, targets } });
        if (ctx.out.json) return ctx.out.printJson(alias);
        ctx.out.line(`added alias ${alias.address} -> ${alias.targets.map((t) => t.address).join(', ')}`);
      },
    },
    list: {
      usage: 'list',
      summary: 'List the aliases',
      args: { min: 0, max: 0 },
      async run(ctx) {
        const client = await ctx.client();
        const items = await collect((cursor, limit) =>
          client.call(ROUTES.aliasesList, { query: { cursor, limit } }),
        );
        if (ctx.out.json) return ctx.out.printJson(items);
        ctx.out.table(
          ['ALIAS', 'TARGETS', 'CREATED'],
          items.map((a) => [
            a.address,
            a.targets.map((t) => (t.kind === 'account' ? t.address : `${t.address} (forward)`)).join(', '),
            time(a.createdAt),
          ]),
        );
      },
    },
    delete: {
      usage: 'delete <address>',
      summary: 'Delete an alias',
      args: { min: 1, max: 1 },
      async run(ctx, [address = '']) {
        await (await ctx.client()).callNoContent(ROUTES.aliasesDelete, { params: { address } });
        if (ctx.out.json) return ctx.out.printJson({ deleted: address });
        ctx.out.line(`deleted alias ${address}`);
      },
    },
  },
};
