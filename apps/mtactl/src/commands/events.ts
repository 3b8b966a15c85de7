import { collect, flag, int, str, type Context, type Family } from '../command';
import { byTime, PollingFeed, StreamFeed, type ApiEvent } from '../events-feed';
import { time } from '../output';
import { ROUTES } from '../routes';

function print(ctx: Context, event: ApiEvent): void {
  if (ctx.out.json) return ctx.out.printJsonLine(event);
  const detail = event.detail ? JSON.stringify(event.detail) : '';
  ctx.out.line(
    [time(event.createdAt), event.type.padEnd(9), event.queueId ?? '-', event.recipient ?? '-', detail]
      .join('  ')
      .trimEnd(),
  );
}

export const events: Family = {
  summary: 'The delivery log: accepted, deferred, delivered, bounced, held, ...',
  default: 'list',
  commands: {
    list: {
      usage: 'list [--message ID] [--type T] [--since T] [--until T] [--limit N] [--follow [--interval S]]',
      summary:
        "The newest events (20 unless --limit), oldest first; --follow then prints new ones as they come (JSON Lines with --json) until interrupted, from the API's event stream, or polling every --interval seconds",
      options: {
        message: { type: 'string' },
        type: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        limit: { type: 'string' },
        follow: { type: 'boolean', short: 'f' },
        interval: { type: 'string' },
      },
      args: { min: 0, max: 0 },
      async run(ctx, _args, options) {
        const client = await ctx.client();
        const filter = { messageId: str(options, 'message'), type: str(options, 'type') };
        const recent = await collect(
          (cursor, limit) =>
            client.call(ROUTES.eventsList, {
              query: { ...filter, since: str(options, 'since'), until: str(options, 'until'), cursor, limit },
            }),
          int(options, 'limit') ?? 20,
        );
        recent.sort(byTime);
        if (!flag(options, 'follow')) {
          if (ctx.out.json) return ctx.out.printJson(recent);
          for (const event of recent) print(ctx, event);
          return;
        }
        for (const event of recent) print(ctx, event);
        const interval = int(options, 'interval');
        const note = (line: string) => ctx.out.note(line);
        const feed = interval ? new PollingFeed(client, interval * 1000, note) : new StreamFeed(client, note);
        await feed.follow(filter, recent, (event) => print(ctx, event), ctx.signal);
      },
    },
  },
};
