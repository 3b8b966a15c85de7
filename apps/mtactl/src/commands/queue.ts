import { collect, str, type Family } from '../command';
import { age, time } from '../output';
import { ROUTES } from '../routes';

export const queue: Family = {
  summary: 'The queue at a glance (like mailq), and pausing delivery to a destination',
  default: 'summary',
  commands: {
    summary: {
      usage: 'summary',
      summary: 'Recipients by status, then every destination with mail waiting',
      args: { min: 0, max: 0 },
      async run(ctx) {
        const client = await ctx.client();
        const summary = await client.call(ROUTES.queueSummary, {});
        const destinations = await collect((cursor, limit) =>
          client.call(ROUTES.queueDomains, { query: { cursor, limit } }),
        );
        if (ctx.out.json) return ctx.out.printJson({ ...summary, destinations });
        const r = summary.recipients;
        const m = summary.messages;
        ctx.out.fields([
          [
            'Recipients',
            `${r.queued} queued, ${r.deferred} deferred, ${r.held} held, ${r.delivered} delivered, ${r.failed} failed, ${r.bounced} bounced`,
          ],
          ['Messages', `${m.received} received, ${m.queued} queued, ${m.held} held, ${m.done} done`],
          [
            'Oldest',
            summary.oldest
              ? `${summary.oldest.queueId} since ${time(summary.oldest.receivedAt)} (${age(summary.oldest.ageSeconds)})`
              : 'none',
          ],
        ]);
        if (destinations.length === 0) return ctx.out.line('\nMail queue is empty');
        ctx.out.line();
        ctx.out.table(
          ['DOMAIN', 'QUEUED', 'DEFERRED', 'HELD', 'TOTAL', 'PAUSED'],
          destinations.map((d) => [
            d.domain,
            d.queued,
            d.deferred,
            d.held,
            d.total,
            pausedText(summary.paused, d.domain),
          ]),
        );
      },
    },
    pause: {
      usage: 'pause <domain> [--reason TEXT] [--until ISO-TIME]',
      summary: 'Deliver nothing to a destination until resumed (or until --until)',
      options: { reason: { type: 'string' }, until: { type: 'string' } },
      args: { min: 1, max: 1 },
      async run(ctx, [domain = ''], options) {
        const pause = await (
          await ctx.client()
        ).call(ROUTES.queuePause, {
          params: { domain },
          body: { reason: str(options, 'reason'), until: str(options, 'until') },
        });
        if (ctx.out.json) return ctx.out.printJson(pause);
        ctx.out.line(
          `paused delivery to ${pause.domain}${pause.pausedUntil ? ` until ${time(pause.pausedUntil)}` : ''}`,
        );
      },
    },
    resume: {
      usage: 'resume <domain>',
      summary: 'Deliver to a paused destination again, now',
      args: { min: 1, max: 1 },
      async run(ctx, [domain = '']) {
        const result = await (await ctx.client()).call(ROUTES.queueResume, { params: { domain } });
        if (ctx.out.json) return ctx.out.printJson(result);
        ctx.out.line(`resumed delivery to ${result.domain}: ${result.enqueued.length} job(s) queued`);
        if (result.enqueueError)
          ctx.out.note(`Redis did not take the jobs (${result.enqueueError}); the reconciler will`);
      },
    },
  },
};

function pausedText(paused: { domain: string; pausedUntil: string | null }[], domain: string): string {
  const pause = paused.find((p) => p.domain === domain);
  if (!pause) return 'no';
  return pause.pausedUntil ? `until ${time(pause.pausedUntil)}` : 'yes';
}
