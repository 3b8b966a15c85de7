/**
 * The router: consumes `accepted` (DESIGN.md "A message's life", step 3). It records the plan
 * (message state `received` → `queued`, each recipient's route, one `routed` event) in one
 * statement (message-store.ts), then hands the recipients to the dispatcher: one `delivery` job per destination.
 *
 * Idempotent: only a message still in state `received` is routed (a conditional update decides,
 * so two replicas replaying the same job cannot both route it), and the jobs have deterministic
 * ids. If the process dies between the commit and the enqueue, the reconciler finds the
 * recipients due without a job and enqueues them.
 *
 * Held: a message in state `held` is not touched (its release puts it back and enqueues it);
 * recipients with status `held` are routed but get no job.
 */
import type { Recipient, RecipientRoute } from '@mta/db';
import type { Context } from './context';
import { destinationOf, type Dispatcher } from './dispatcher';
import type { Settler } from './settle';
import { blockKeys, loadMessage, markRouted } from './message-store';
import type { MessageRef } from './types';

export type RouteResult =
  | { readonly routed: false; readonly reason: 'missing' | 'not-received' }
  | { readonly routed: true; readonly jobs: number };

export class Router {
  constructor(
    private readonly ctx: Context,
    private readonly dispatcher: Dispatcher,
    private readonly settler: Settler,
  ) {}

  async route(messageId: string): Promise<RouteResult> {
    const { ctx } = this;
    const loaded = await loadMessage(ctx.pool, messageId);
    if (!loaded) return { routed: false, reason: 'missing' };
    const { msg, recipients } = loaded;
    const log = ctx.logger.child({ queueId: msg.queueId });
    if (msg.state !== 'received') {
      log.debug({ state: msg.state }, 'accepted job replayed, message not in state received: skipped');
      return { routed: false, reason: 'not-received' };
    }
    const routes = await this.routesFor(recipients);
    const plan = summarise(recipients, routes, ctx.relayHost);

    const { won, blocks } = await markRouted(ctx.pool, {
      messageId,
      queueId: msg.queueId,
      routeChanges: recipients.flatMap((r) => {
        const route = routes.get(r.id) ?? 'remote';
        return r.route === route ? [] : [{ id: r.id, route }];
      }),
      detail: { destinations: plan },
      blocksFor: { ...blockKeys(recipients), now: ctx.now() },
    });
    if (!won) return { routed: false, reason: 'not-received' };
    ctx.metrics.count('routed');
    log.info({ state: 'queued', destinations: plan }, 'message routed');

    const routed: MessageRef = { ...msg, state: 'queued' };
    const waiting = recipients.map((r) => ({ ...r, route: routes.get(r.id) ?? null }));
    const result = await this.dispatcher.dispatch(routed, waiting, { blocks });
    for (const job of result.jobs) {
      log.info(
        {
          route: job.route,
          destination: job.destination,
          recipients: job.recipientIds.length,
          attempt: job.attempt,
        },
        'delivery job enqueued',
      );
    }
    // The message can only have become final through recipients that failed here (expired,
    // suppressed) or were final already; otherwise settling would find nothing to do.
    const finalBefore = recipients.some((r) => !['queued', 'deferred', 'held'].includes(r.status));
    if (result.failed > 0 || finalBefore) await this.settler.settle(routed);
    return { routed: true, jobs: result.jobs.length };
  }

  /** The route of each recipient: as intake set it, else from our domains (local, relay) or remote. */
  private async routesFor(recipients: readonly Recipient[]): Promise<Map<string, RecipientRoute>> {
    const unknown = [...new Set(recipients.filter((r) => r.route === null).map((r) => r.domain))];
    const domains = unknown.length
      ? await this.ctx.db.domain.findMany({
          where: { name: { in: unknown } },
          select: { name: true, type: true },
        })
      : [];
    const byName = new Map(domains.map((d) => [d.name, d.type]));
    return new Map(recipients.map((r) => [r.id, r.route ?? byName.get(r.domain) ?? 'remote']));
  }
}

function summarise(
  recipients: readonly Recipient[],
  routes: ReadonlyMap<string, RecipientRoute>,
  relayHost?: string,
) {
  const counts = new Map<
    string,
    { route: RecipientRoute; destination: string; recipients: number; held: number }
  >();
  for (const r of recipients) {
    const route = routes.get(r.id) ?? 'remote';
    const destination = destinationOf(route, r.domain, relayHost);
    const key = `${route}\n${destination}`;
    const entry = counts.get(key) ?? { route, destination, recipients: 0, held: 0 };
    entry.recipients++;
    if (r.status === 'held') entry.held++;
    counts.set(key, entry);
  }
  return [...counts.values()];
}
