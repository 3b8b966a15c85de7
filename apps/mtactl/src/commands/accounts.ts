import { collect, flag, str, type Family } from '../command';
import { time } from '../output';
import { ROUTES } from '../routes';

/** `--send-as a@x,@y` → `['a@x', '@y']`. */
function sendAs(value: string | undefined): string[] | undefined {
  return value === undefined
    ? undefined
    : value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

const PASSWORD_NOTE =
  'The password is asked for twice without echo on a terminal, or read as the first line of stdin.';

export const accounts: Family = {
  summary: 'Mailboxes and submission logins',
  commands: {
    add: {
      usage: 'add <address> [--send-as ADDR,@DOMAIN] [--disabled]',
      summary: `Create an account in a local domain. ${PASSWORD_NOTE}`,
      options: { 'send-as': { type: 'string' }, disabled: { type: 'boolean' } },
      args: { min: 1, max: 1 },
      async run(ctx, [address = ''], options) {
        const client = await ctx.client();
        const password = await ctx.readSecret(`Password for ${address}: `, true);
        const account = await client.call(ROUTES.accountsCreate, {
          body: {
            address,
            password,
            sendAs: sendAs(str(options, 'send-as')),
            disabled: flag(options, 'disabled'),
          },
        });
        if (ctx.out.json) return ctx.out.printJson(account);
        ctx.out.line(`added account ${account.address}${account.disabled ? ' (disabled)' : ''}`);
      },
    },
    passwd: {
      usage: 'passwd <address>',
      summary: `Set an account's password. ${PASSWORD_NOTE}`,
      args: { min: 1, max: 1 },
      async run(ctx, [address = '']) {
        const client = await ctx.client();
        const password = await ctx.readSecret(`New password for ${address}: `, true);
        const account = await client.call(ROUTES.accountsUpdate, { params: { address }, body: { password } });
        if (ctx.out.json) return ctx.out.printJson(account);
        ctx.out.line(`password of ${account.address} changed`);
      },
    },
    list: {
      usage: 'list',
      summary: 'List the accounts',
      args: { min: 0, max: 0 },
      async run(ctx) {
        const client = await ctx.client();
        const items = await collect((cursor, limit) =>
          client.call(ROUTES.accountsList, { query: { cursor, limit } }),
        );
        if (ctx.out.json) return ctx.out.printJson(items);
        ctx.out.table(
          ['ADDRESS', 'DISABLED', 'SEND-AS', 'CREATED'],
          items.map((a) => [a.address, a.disabled, a.sendAs.join(',') || '-', time(a.createdAt)]),
        );
      },
    },
    delete: {
      usage: 'delete <address>',
      summary: 'Delete an account (its Maildir stays on disk)',
      args: { min: 1, max: 1 },
      async run(ctx, [address = '']) {
        await (await ctx.client()).callNoContent(ROUTES.accountsDelete, { params: { address } });
        if (ctx.out.json) return ctx.out.printJson({ deleted: address });
        ctx.out.line(`deleted account ${address}`);
      },
    },
  },
};
