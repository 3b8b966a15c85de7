/**
 * The router: consumes `accepted` (DESIGN.md "A message's life", step 3). It records the plan
 * (move `route`: message `received` → `queued`, each recipient's route, one `routed` event) in one
 * statement (@mta/queue-state `markRouted`), then hands the recipients to the dispatcher: one
 * `delivery` job per destination.
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
import { QueueName } from '@mta/queue';
import {
  MESSAGE,
  RecipientStatus,
  allows,
  blockKeys,
  destinationOf,
  isOpen,
  loadMessages,
  markRouted,
  type Blocks,
  type DeliveryJobData,
  type LoadedMessage,
  type MessageRef,
} from '@mta/queue-state';
import { batchOptions } from './batches';
import type { Context } from './context';
import type { Dispatcher } from './dispatcher';
import type { Settler } from './settle';

export type RouteResult =
  | { readonly routed: false; readonly reason: 'missing' | 'not-received' }
  | { readonly routed: true; readonly jobs: number };

/** One message of a batch with the plan the router records for it. */
interface Plan {
  readonly msg: MessageRef;
  readonly recipients: readonly Recipient[];
  readonly destinations: ReturnType<typeof summarise>;
}

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
    const unique = [...new Set(messageIds)];
    const { messages } = await loadMessages(this.ctx.pool, unique);
    const results = new Map<string, RouteResult>();
    const received: LoadedMessage[] = [];
    for (const id of unique) {
      const message = messages.get(id);
      if (!message) results.set(id, { routed: false, reason: 'missing' });
      else if (!allows(MESSAGE.route, message.msg.state)) this.skip(message.msg, results);
      else received.push(message);
    }
    if (received.length > 0) await this.commit(received, results);
    return messageIds.map((id) => results.get(id) ?? { routed: false, reason: 'not-received' });
  }

  private skip(msg: MessageRef, results: Map<string, RouteResult>): void {
    this.ctx.logger
      .child({ queueId: msg.queueId })
      .debug({ state: msg.state }, 'accepted job replayed, message not in state received: skipped');
    results.set(msg.id, { routed: false, reason: 'not-received' });
  }

  /** Records the batch's plans, then prepares, enqueues and settles what the batch won. */
  private async commit(messages: readonly LoadedMessage[], results: Map<string, RouteResult>): Promise<void> {
    const all = messages.flatMap((m) => m.recipients);
    const routes = await this.routesFor(all);
    const plans: Plan[] = messages.map(({ msg, recipients }) => ({
      msg,
      recipients,
      destinations: summarise(recipients, routes, this.ctx.relayHost),
    }));
    const { won, blocks } = await this.record(plans, routes, all);
    const routed: { log: Logger; jobs: DeliveryJobData[] }[] = [];
    const toSettle: MessageRef[] = [];
    for (const plan of plans) {
      if (!won.has(plan.msg.id)) {
        results.set(plan.msg.id, { routed: false, reason: 'not-received' });
        continue;
      }
      const { log, jobs, settle } = await this.prepare(plan, routes, blocks);
      routed.push({ log, jobs });
      if (settle) toSettle.push(settle);
      results.set(plan.msg.id, { routed: true, jobs: jobs.length });
    }
    await this.enqueue(routed);
    await this.settler.settleMany(toSettle);
  }

  /** The batch's move `route` in one statement; which messages this call moved, and the blocks. */
  private record(plans: readonly Plan[], routes: ReadonlyMap<string, RecipientRoute>, all: Recipient[]) {
    return markRouted(
      this.ctx.pool,
      plans.map(({ msg, recipients, destinations }) => ({
        messageId: msg.id,
        queueId: msg.queueId,
        routeChanges: recipients.flatMap((r) => {
          const route = routes.get(r.id) ?? 'remote';
          return r.route === route ? [] : [{ id: r.id, route }];
        }),
        detail: { destinations },
      })),
      { ...blockKeys(all), now: this.ctx.now() },
    );
  }

  /** One routed message's jobs, and the message if settling may be due. */
  private async prepare(plan: Plan, routes: ReadonlyMap<string, RecipientRoute>, blocks: Blocks) {
    const { ctx } = this;
    ctx.metrics.count('routed');
    const log = ctx.logger.child({ queueId: plan.msg.queueId });
    log.info({ state: MESSAGE.route.to, destinations: plan.destinations }, 'message routed');
    const msg: MessageRef = { ...plan.msg, state: MESSAGE.route.to };
    const waiting = plan.recipients.map((r) => ({ ...r, route: routes.get(r.id) ?? null }));
    const prepared = await this.dispatcher.prepare(msg, waiting, { blocks });
    // The message can only have become final through recipients that failed here (expired,
    // suppressed) or were final already; otherwise settling would find nothing to do.
    const finalBefore = plan.recipients.some((r) => !isOpen(r.status));
    return { log, jobs: prepared.jobs, settle: prepared.failed > 0 || finalBefore ? msg : null };
  }

  /**
   * The jobs of every message of the batch go to Redis together (one addBulk). If that fails,
   * the messages stay routed and the reconciler finds their recipients due without a job.
   */
  private async enqueue(routed: readonly { log: Logger; jobs: DeliveryJobData[] }[]): Promise<void> {
    await this.ctx.producer.enqueueMany(
      QueueName.Delivery,
      routed.flatMap((r) => r.jobs),
    );
    for (const { log, jobs } of routed) {
      for (const job of jobs) {
        const { route, destination, attempt } = job;
        log.info(
          { route, destination, recipients: job.recipientIds.length, attempt },
          'delivery job enqueued',
        );
      }
    }
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
    if (r.status === RecipientStatus.held) entry.held++;
    counts.set(key, entry);
  }
  return [...counts.values()];
}
