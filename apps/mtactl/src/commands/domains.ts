import { collect, flag, str, type Family } from '../command';
import { usageError } from '../errors';
import { time } from '../output';
import { ROUTES } from '../routes';

function greylisting(value: string | undefined): boolean | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'on') return true;
  if (value === 'off') return false;
  if (value === 'default') return null;
  throw usageError(`--greylisting: expected on, off or default, got "${value}"`);
}

export const domains: Family = {
  summary: 'Domains we accept mail for, and the DNS records to publish',
  commands: {
    add: {
      usage: 'add <domain> [--relay] [--accept-all] [--no-dmarc-enforce] [--greylisting on|off|default]',
      summary: 'Add a domain (local mailboxes, or --relay to pass its mail on to its own MX)',
      options: {
        relay: { type: 'boolean' },
        'accept-all': { type: 'boolean' },
        'no-dmarc-enforce': { type: 'boolean' },
        greylisting: { type: 'string' },
      },
      args: { min: 1, max: 1 },
      async run(ctx, [name], options) {
        const domain = await (
          await ctx.client()
        ).call(ROUTES.domainsCreate, {
          body: {
            name: name ?? '',
            type: flag(options, 'relay') ? 'relay' : 'local',
            acceptAll: flag(options, 'accept-all'),
            dmarcEnforce: !flag(options, 'no-dmarc-enforce'),
            greylisting: greylisting(str(options, 'greylisting')),
          },
        });
        if (ctx.out.json) return ctx.out.printJson(domain);
        ctx.out.line(`added ${domain.type} domain ${domain.name}`);
        ctx.out.line(`next: publish its DNS records (mtactl domains dns ${domain.name})`);
      },
    },
    list: {
      usage: 'list',
      summary: 'List the domains',
      args: { min: 0, max: 0 },
      async run(ctx) {
        const client = await ctx.client();
        const items = await collect((cursor, limit) =>
          client.call(ROUTES.domainsList, { query: { cursor, limit } }),
        );
        if (ctx.out.json) return ctx.out.printJson(items);
        ctx.out.table(
          ['DOMAIN', 'TYPE', 'ACCEPT-ALL', 'DMARC', 'GREYLISTING', 'CREATED'],
          items.map((d) => [
            d.name,
            d.type,
            d.acceptAll,
            d.dmarcEnforce ? 'enforce' : 'tag only',
            d.greylisting === null ? 'default' : d.greylisting ? 'on' : 'off',
            time(d.createdAt),
          ]),
        );
      },
    },
    dns: {
      usage: 'dns <domain> [--check]',
      summary: 'The DNS records to publish, as zone text; --check compares them with what DNS answers',
      options: { check: { type: 'boolean' } },
      args: { min: 1, max: 1 },
      async run(ctx, [name = ''], options) {
        const client = await ctx.client();
        if (flag(options, 'check')) {
          const check = await client.call(ROUTES.domainsDnsCheck, { params: { name } });
          if (ctx.out.json) return ctx.out.printJson(check);
          ctx.out.table(
            ['PURPOSE', 'NAME', 'TYPE', 'STATUS', 'DETAIL'],
            check.records.map((r) => [r.purpose, r.name, r.type, r.status, r.detail]),
          );
          if (!check.ok) ctx.out.note(`${check.domain}: not every record matches yet`);
          return;
        }
        const dns = await client.call(ROUTES.domainsDns, { params: { name } });
        if (ctx.out.json) return ctx.out.printJson(dns);
        ctx.out.stdout.write(dns.zone.endsWith('\n') ? dns.zone : `${dns.zone}\n`);
        for (const note of dns.records.filter((r) => r.note))
          ctx.out.note(`${note.name} ${note.type}: ${note.note}`);
      },
    },
    delete: {
      usage: 'delete <domain>',
      summary: 'Delete a domain (refused while it has accounts or aliases)',
      args: { min: 1, max: 1 },
      async run(ctx, [name = '']) {
        await (await ctx.client()).callNoContent(ROUTES.domainsDelete, { params: { name } });
        if (ctx.out.json) return ctx.out.printJson({ deleted: name });
        ctx.out.line(`deleted domain ${name}`);
      },
    },
  },
};
