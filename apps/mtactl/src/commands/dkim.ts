import type { ApiClient } from '../client';
import { collect, flag, str, type Context, type Family, type OptionValues } from '../command';
import { CliError, EXIT, usageError } from '../errors';
import { time } from '../output';
import { ROUTES } from '../routes';

function algorithm(options: OptionValues): 'rsa' | 'ed25519' {
  const value = str(options, 'algorithm') ?? 'rsa';
  if (value !== 'rsa' && value !== 'ed25519')
    throw usageError(`--algorithm: expected rsa or ed25519, got "${value}"`);
  return value;
}

const keysOf = (client: ApiClient, name: string) =>
  collect((cursor, limit) => client.call(ROUTES.dkimList, { params: { name }, query: { cursor, limit } }));

/**
 * Second step of a rotation: the new key must be published (`dns/check` says `match`) before it
 * signs, or receivers would fail mail signed with it; then the older active keys of its
 * algorithm stop signing (README, "DKIM keys and rotation").
 */
async function activate(ctx: Context, name: string, selector: string, force: boolean): Promise<void> {
  const client = await ctx.client();
  const keys = await keysOf(client, name);
  const key = keys.find((k) => k.selector === selector);
  if (!key) throw new CliError(`${name} has no DKIM key with selector ${selector}`, EXIT.apiError);
  if (!force) {
    const check = await client.call(ROUTES.domainsDnsCheck, { params: { name } });
    const record = check.records.find((r) => r.purpose === 'dkim' && r.selector === selector);
    if (record?.status !== 'match')
      throw new CliError(
        `the DKIM record ${key.dnsName} is ${record?.status ?? 'not checked'} in DNS` +
          `${record?.detail ? ` (${record.detail})` : ''}: publish it and try again, or use --force`,
        EXIT.apiError,
      );
  }
  const activated = await client.call(ROUTES.dkimUpdate, {
    params: { name, selector },
    body: { active: true },
  });
  const retired = [];
  for (const old of keys.filter((k) => k.active && k.algorithm === key.algorithm && k.selector !== selector))
    retired.push(
      await client.call(ROUTES.dkimUpdate, {
        params: { name, selector: old.selector },
        body: { active: false },
      }),
    );
  if (ctx.out.json) return ctx.out.printJson({ activated, deactivated: retired });
  ctx.out.line(`${name}: ${key.algorithm} key ${selector} signs now`);
  for (const old of retired)
    ctx.out.line(
      `${name}: ${old.selector} no longer signs; keep ${old.dnsName} published a few days, then: mtactl dkim delete ${name} ${old.selector}`,
    );
}

export const dkim: Family = {
  summary: 'DKIM signing keys of a domain, and their rotation',
  commands: {
    list: {
      usage: 'list <domain>',
      summary: "The domain's keys and where their records go",
      args: { min: 1, max: 1 },
      async run(ctx, [name = '']) {
        const keys = await keysOf(await ctx.client(), name);
        if (ctx.out.json) return ctx.out.printJson(keys);
        ctx.out.table(
          ['SELECTOR', 'ALGORITHM', 'ACTIVE', 'CREATED', 'RECORD NAME'],
          keys.map((k) => [k.selector, k.algorithm, k.active, time(k.createdAt), k.dnsName]),
        );
      },
    },
    add: {
      usage: 'add <domain> [--algorithm rsa|ed25519] [--selector S] [--inactive]',
      summary: 'Make a key that signs at once (a first key); prints the TXT record to publish',
      options: { algorithm: { type: 'string' }, selector: { type: 'string' }, inactive: { type: 'boolean' } },
      args: { min: 1, max: 1 },
      async run(ctx, [name = ''], options) {
        const key = await (
          await ctx.client()
        ).call(ROUTES.dkimCreate, {
          params: { name },
          body: {
            algorithm: algorithm(options),
            selector: str(options, 'selector'),
            active: !flag(options, 'inactive'),
          },
        });
        if (ctx.out.json) return ctx.out.printJson(key);
        ctx.out.line(key.record);
      },
    },
    rotate: {
      usage:
        'rotate <domain> [--algorithm rsa|ed25519] [--selector S] | rotate <domain> --activate <selector> [--force]',
      summary:
        'Rotate without a gap: first a new key that does not sign yet (publish the record it prints), ' +
        'then --activate it once DNS serves it: it signs, the old key of its algorithm stops',
      options: {
        algorithm: { type: 'string' },
        selector: { type: 'string' },
        activate: { type: 'string' },
        force: { type: 'boolean' },
      },
      args: { min: 1, max: 1 },
      async run(ctx, [name = ''], options) {
        const selector = str(options, 'activate');
        if (selector !== undefined) return activate(ctx, name, selector, flag(options, 'force'));
        const key = await (
          await ctx.client()
        ).call(ROUTES.dkimCreate, {
          params: { name },
          body: { algorithm: algorithm(options), selector: str(options, 'selector'), active: false },
        });
        if (ctx.out.json) return ctx.out.printJson(key);
        ctx.out.line(key.record);
        ctx.out.note(`publish the record above, then: mtactl dkim rotate ${name} --activate ${key.selector}`);
      },
    },
    delete: {
      usage: 'delete <domain> <selector>',
      summary: 'Delete a key (after it stopped signing and mail signed with it has arrived)',
      args: { min: 2, max: 2 },
      async run(ctx, [name = '', selector = '']) {
        await (await ctx.client()).callNoContent(ROUTES.dkimDelete, { params: { name, selector } });
        if (ctx.out.json) return ctx.out.printJson({ deleted: selector, domain: name });
        ctx.out.line(`deleted DKIM key ${selector} of ${name}`);
      },
    },
  },
};
