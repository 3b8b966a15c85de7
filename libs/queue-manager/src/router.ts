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
 * Messages whose `accepted` jobs run at the same time are routed together (batches.ts).
 *
 * Held: a message in state `held` is not touched (its release puts it back and enqueues it);
 * recipients with status `held` are routed but get no job.
 */
import { GroupCommit, type Recipient, type RecipientRoute } from '@mta/db';
import type { Logger } from '@mta/observability';
import type { Context } from './context';
import { destinationOf, type DeliveryJobData, type Dispatcher } from './dispatcher';
import type { Settler } from './settle';
import { QueueName } from '@mta/queue';
import { batchOptions } from './batches';
import { blockKeys, loadMessages, markRouted, type LoadedMessage } from './message-store';
import type { MessageRef } from './types';

export type RouteResult =
  | { readonly routed: false; readonly reason: 'missing' | 'not-received' }
  | { readonly routed: true; readonly jobs: number };

export class Router {
  private readonly batch: GroupCommit<string, RouteResult>;

  constructor(
    private readonly ctx: Context,
    private readonly dispatcher: Dispatcher,
    private readonly settler: Settler,
  ) {
    this.batch = new GroupCommit((ids) => this.routeMany(ids), batchOptions(ctx, 'route'));
  }

  /** Routes one message, together with the others that arrive while a batch is being routed. */
  route(messageId: string): Promise<RouteResult> {
    return this.batch.submit(messageId);
  }

  /** Routes the messages of one `accepted` job, together (as far as a batch's bound allows). */
  routeAll(messageIds: readonly string[]): Promise<RouteResult[]> {
    return this.batch.submitAll(messageIds);
  }

  /**
   * Routes a batch: one query reads the messages, one statement records every plan (and reads
   * the blocks of all their recipients), then each message's jobs are enqueued.
   */
  async routeMany(messageIds: readonly string[]): Promise<RouteResult[]> {
    const { ctx } = this;
    const unique = [...new Set(messageIds)];
    const loaded = await loadMessages(ctx.pool, unique);
    const results = new Map<string, RouteResult>();
    const received: LoadedMessage[] = [];
    for (const id of unique) {
      const message = loaded.get(id);
      if (!message) results.set(id, { routed: false, reason: 'missing' });
      else if (message.msg.state !== 'received') {
        ctx.logger
          .child({ queueId: message.msg.queueId })
          .debug(
            { state: message.msg.state },
            'accepted job replayed, message not in state received: skipped',
          );
        results.set(id, { routed: false, reason: 'not-received' });
      } else received.push(message);
    }
    if (received.length > 0) await this.commit(received, results);
    return messageIds.map((id) => results.get(id) ?? { routed: false, reason: 'not-received' });
  }

  private async commit(messages: readonly LoadedMessage[], results: Map<string, RouteResult>): Promise<void> {
    const { ctx } = this;
    const all = messages.flatMap((m) => m.recipients);
    const routes = await this.routesFor(all);
    const plans = messages.map(({ msg, recipients }) => ({
      msg,
      recipients,
      plan: summarise(recipients, routes, ctx.relayHost),
    }));
    const { won, blocks } = await markRouted(
      ctx.pool,
      plans.map(({ msg, recipients, plan }) => ({
        messageId: msg.id,
        queueId: msg.queueId,
        routeChanges: recipients.flatMap((r) => {
          const route = routes.get(r.id) ?? 'remote';
          return r.route === route ? [] : [{ id: r.id, route }];
        }),
        detail: { destinations: plan },
      })),
      { ...blockKeys(all), now: ctx.now() },
    );

    // The jobs of every message of the batch go to Redis together (one addBulk). If that
    // fails, the messages stay routed and the reconciler finds their recipients due without a job.
    const toSettle: MessageRef[] = [];
    const routedNow: { log: Logger; jobs: DeliveryJobData[] }[] = [];
    for (const { msg, recipients, plan } of plans) {
      if (!won.has(msg.id)) {
        results.set(msg.id, { routed: false, reason: 'not-received' });
        continue;
      }
      ctx.metrics.count('routed');
      const log = ctx.logger.child({ queueId: msg.queueId });
      log.info({ state: 'queued', destinations: plan }, 'message routed');
      const routed: MessageRef = { ...msg, state: 'queued' };
      const waiting = recipients.map((r) => ({ ...r, route: routes.get(r.id) ?? null }));
      const prepared = await this.dispatcher.prepare(routed, waiting, { blocks });
      routedNow.push({ log, jobs: prepared.jobs });
      // The message can only have become final through recipients that failed here (expired,
      // suppressed) or were final already; otherwise settling would find nothing to do.
      const finalBefore = recipients.some((r) => !['queued', 'deferred', 'held'].includes(r.status));
      if (prepared.failed > 0 || finalBefore) toSettle.push(routed);
      results.set(msg.id, { routed: true, jobs: prepared.jobs.length });
    }
    await ctx.producer.enqueueMany(
      QueueName.Delivery,
      routedNow.flatMap((r) => r.jobs),
    );
    for (const { log, jobs } of routedNow) {
      for (const job of jobs) {
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
    }
    await this.settler.settleMany(toSettle);
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
