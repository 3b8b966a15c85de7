import { collect, int, str, type Family } from '../command';
import { time } from '../output';
import { ROUTES } from '../routes';

/** `-` for a field that takes the default. */
const orDefault = (value: number | string | null): string => (value === null ? '-' : String(value));

export const shaping: Family = {
  summary: 'Traffic shaping per recipient domain: connections, messages per connection, rate',
  default: 'list',
  commands: {
    list: {
      usage: 'list',
      summary: 'The per-domain overrides (-: the configured default)',
      args: { min: 0, max: 0 },
      async run(ctx) {
        const client = await ctx.client();
        const items = await collect((cursor, limit) =>
          client.call(ROUTES.shapingList, { query: { cursor, limit } }),
        );
        if (ctx.out.json) return ctx.out.printJson(items);
        ctx.out.table(
          ['DOMAIN', 'CONNECTIONS', 'PER-CONNECTION', 'RATE', 'UPDATED'],
          items.map((o) => [
            o.domain,
            orDefault(o.maxConnections),
            orDefault(o.maxMessagesPerConnection),
            orDefault(o.maxMessageRate),
            time(o.updatedAt),
          ]),
        );
      },
    },
    show: {
      usage: 'show <domain>',
      summary: 'What delivery applies to a domain, and whether an override says so',
      args: { min: 1, max: 1 },
      async run(ctx, [domain = '']) {
        const view = await (await ctx.client()).call(ROUTES.shapingGet, { params: { domain } });
        if (ctx.out.json) return ctx.out.printJson(view);
        const o = view.override;
        const from = (value: unknown) => (o && value !== null ? 'override' : 'default');
        const e = view.effective;
        ctx.out.fields([
          ['Domain', view.domain],
          ['Connections', `${e.maxConnections} (${from(o?.maxConnections ?? null)})`],
          ['Per connection', `${e.maxMessagesPerConnection} (${from(o?.maxMessagesPerConnection ?? null)})`],
          ['Rate', `${e.maxMessageRate ?? 'none'} (${from(o?.maxMessageRate ?? null)})`],
        ]);
      },
    },
    set: {
      usage: 'set <domain> [--connections N] [--per-connection N] [--rate 10/s|50/min|1000/h]',
      summary: 'Replace the override of a domain (a limit left out takes the default)',
      options: {
        connections: { type: 'string' },
        'per-connection': { type: 'string' },
        rate: { type: 'string' },
      },
      args: { min: 1, max: 1 },
      async run(ctx, [domain = ''], options) {
        const body = {
          maxConnections: int(options, 'connections') ?? null,
          maxMessagesPerConnection: int(options, 'per-connection') ?? null,
          maxMessageRate: str(options, 'rate') ?? null,
        };
        const view = await (await ctx.client()).call(ROUTES.shapingPut, { params: { domain }, body });
        if (ctx.out.json) return ctx.out.printJson(view);
        const e = view.effective;
        ctx.out.line(
          `${view.domain}: ${e.maxConnections} connections, ${e.maxMessagesPerConnection} messages per connection, rate ${e.maxMessageRate ?? 'none'}`,
        );
      },
    },
    delete: {
      usage: 'delete <domain>',
      summary: 'Remove the override of a domain: the defaults apply again',
      args: { min: 1, max: 1 },
      async run(ctx, [domain = '']) {
        await (await ctx.client()).callNoContent(ROUTES.shapingDelete, { params: { domain } });
        if (ctx.out.json) return ctx.out.printJson({ deleted: domain });
        ctx.out.line(`${domain} takes the default shaping again`);
      },
    },
  },
};
