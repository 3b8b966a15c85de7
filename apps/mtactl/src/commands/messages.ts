import type { z } from 'zod';
import type { MessageDetail, QueueActionResult } from '@mta/feature-admin-api/schemas';
import type { ApiClient } from '../client';
import { collect, flag, int, str, type Command, type Context, type Family } from '../command';
import { CliError, EXIT } from '../errors';
import { time } from '../output';
import { ROUTES } from '../routes';

type ActionResult = z.output<typeof QueueActionResult>;

/**
 * hold, release, retry and delete take one or more ids, as `postsuper -h` does; each is tried,
 * a failure is reported and the others go on; the exit code is 1 when any failed.
 */
function action(
  verb: string,
  summary: string,
  call: (client: ApiClient, id: string, bounce: boolean) => Promise<ActionResult | null>,
  extra: Partial<Command> = {},
): Command {
  return {
    usage: `${verb} <id>...`,
    summary,
    args: { min: 1, max: 10_000 },
    ...extra,
    async run(ctx, ids, options) {
      const client = await ctx.client();
      const results: unknown[] = [];
      let failed: CliError | undefined;
      for (const id of ids) {
        try {
          const result = await call(client, id, flag(options, 'bounce'));
          results.push(result ?? { deleted: id });
          if (!ctx.out.json) ctx.out.line(describe(verb, id, result));
        } catch (error) {
          if (!(error instanceof CliError) || error.exitCode !== EXIT.apiError) throw error;
          failed = error;
          ctx.out.note(`${id}: ${error.message}`);
        }
      }
      if (ctx.out.json) ctx.out.printJson(results);
      if (failed) throw new CliError(`${verb}: not every message could be done`, EXIT.apiError);
    },
  };
}

const PAST: Record<string, string> = {
  hold: 'held',
  release: 'released',
  retry: 'retried',
  delete: 'bounced',
};

function describe(verb: string, id: string, result: ActionResult | null): string {
  if (!result) return `${id}: deleted`;
  const done = PAST[verb] ?? verb;
  const line = `${result.message.queueId}: ${done}, ${result.changed} recipient(s) changed, state ${result.message.state}`;
  return result.enqueueError ? `${line} (Redis did not take the jobs; the reconciler will)` : line;
}

function showDetail(ctx: Context, m: z.output<typeof MessageDetail>): void {
  ctx.out.fields([
    ['Queue ID', m.queueId],
    ['UUID', m.id],
    ['State', m.state],
    ['Source', m.source],
    ['Received', time(m.receivedAt)],
    [
      'Client',
      [m.client.hostname, m.client.address && `[${m.client.address}]`].filter(Boolean).join(' ') || null,
    ],
    ['HELO', m.client.helo],
    ['Login', m.client.authUser],
    ['Sender', m.sender || '<>'],
    ['From', m.from],
    ['Subject', m.subject],
    ['Message-ID', m.messageIdHeader],
    ['Size', m.size],
    ['DMARC', m.authentication?.dmarc?.result ?? null],
  ]);
  ctx.out.line();
  ctx.out.table(
    ['RECIPIENT', 'STATUS', 'ROUTE', 'ATTEMPTS', 'NEXT ATTEMPT', 'LAST REPLY'],
    m.recipients.map((r) => [
      r.address,
      r.status,
      r.route,
      r.attempts,
      time(r.nextAttemptAt),
      r.lastReply
        ? [r.lastReply.code, r.lastReply.enhanced, r.lastReply.text].filter(Boolean).join(' ')
        : null,
    ]),
  );
}

export const messages: Family = {
  summary: 'Messages in the queue: find, inspect, retry, hold, release, delete (like postsuper)',
  commands: {
    list: {
      usage:
        'list [--status S] [--sender A] [--recipient A] [--domain D] [--since T] [--until T] [--limit N]',
      summary: 'Messages, newest first (100 unless --limit)',
      options: {
        status: { type: 'string' },
        sender: { type: 'string' },
        recipient: { type: 'string' },
        domain: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        limit: { type: 'string' },
      },
      args: { min: 0, max: 0 },
      async run(ctx, _args, options) {
        const client = await ctx.client();
        const filters = {
          status: str(options, 'status'),
          sender: str(options, 'sender'),
          recipient: str(options, 'recipient'),
          domain: str(options, 'domain'),
          since: str(options, 'since'),
          until: str(options, 'until'),
        };
        const items = await collect(
          (cursor, limit) => client.call(ROUTES.messagesList, { query: { ...filters, cursor, limit } }),
          int(options, 'limit') ?? 100,
        );
        if (ctx.out.json) return ctx.out.printJson(items);
        ctx.out.table(
          ['QUEUE ID', 'STATE', 'SIZE', 'RECEIVED', 'SENDER', 'RECIPIENTS'],
          items.map((m) => [
            m.queueId,
            m.state,
            m.size,
            time(m.receivedAt),
            m.sender || '<>',
            m.recipients.map((r) => `${r.address} (${r.status})`).join(', ') +
              (m.recipientCount > m.recipients.length ? `, +${m.recipientCount - m.recipients.length}` : ''),
          ]),
        );
      },
    },
    show: {
      usage: 'show <id>',
      summary: 'A message: envelope, recipients with their status and last reply',
      args: { min: 1, max: 1 },
      async run(ctx, [id = '']) {
        const message = await (await ctx.client()).call(ROUTES.messagesShow, { params: { id } });
        if (ctx.out.json) return ctx.out.printJson(message);
        showDetail(ctx, message);
      },
    },
    raw: {
      usage: 'raw <id>',
      summary: 'The stored message as it is, to stdout',
      args: { min: 1, max: 1 },
      async run(ctx, [id = '']) {
        ctx.out.stdout.write(await (await ctx.client()).callRaw(ROUTES.messagesRaw, { params: { id } }));
      },
    },
    retry: action('retry', 'Try the pending recipients now', (c, id) =>
      c.call(ROUTES.messagesRetry, { params: { id } }),
    ),
    hold: action('hold', 'Deliver nothing until released', (c, id) =>
      c.call(ROUTES.messagesHold, { params: { id } }),
    ),
    release: action('release', 'Release held messages: deliver now', (c, id) =>
      c.call(ROUTES.messagesRelease, { params: { id } }),
    ),
    delete: action(
      'delete',
      'Delete messages; with --bounce fail their undelivered recipients so the sender is told',
      (c, id, bounce) =>
        c.callOrNoContent(ROUTES.messagesDelete, {
          params: { id },
          query: { bounce: bounce ? 'true' : 'false' },
        }),
      { usage: 'delete <id>... [--bounce]', options: { bounce: { type: 'boolean' } } },
    ),
  },
};
