import { Injectable } from '@nestjs/common';
import { PrismaService, type DomainPause } from '@mta/db';
import { notFound } from '../common/errors';
import { paginate, type PageQuery } from '../common/pagination';
import { DeliveryScheduler, type DueRecipient } from './delivery-scheduler';
import type { PauseDomain } from './queue.schemas';

const OPEN = ['queued', 'deferred', 'held'] as const;
/** How many messages a resume enqueues at once; the reconciler finds the rest. */
const RESUME_BATCH = 1000;

function pauseView(row: DomainPause) {
  return { domain: row.domain, reason: row.reason, pausedUntil: row.pausedUntil, createdAt: row.createdAt };
}

@Injectable()
export class QueueService {
  constructor(
    private readonly db: PrismaService,
    private readonly scheduler: DeliveryScheduler,
  ) {}

  async summary() {
    const db = this.db.client;
    const [byStatus, byState, oldest, paused] = await Promise.all([
      db.recipient.groupBy({ by: ['status'], _count: { _all: true } }),
      db.message.groupBy({ by: ['state'], _count: { _all: true } }),
      db.message.findFirst({
        where: { state: { not: 'done' } },
        orderBy: [{ receivedAt: 'asc' }, { id: 'asc' }],
        select: { queueId: true, receivedAt: true },
      }),
      this.activePauses(),
    ]);
    const recipients = { queued: 0, deferred: 0, held: 0, delivered: 0, failed: 0, bounced: 0 };
    for (const row of byStatus) recipients[row.status] = row._count._all;
    const messages = { received: 0, queued: 0, held: 0, done: 0 };
    for (const row of byState) messages[row.state] = row._count._all;
    const top = await db.recipient.groupBy({
      by: ['domain'],
      where: { status: { in: [...OPEN] } },
      _count: { _all: true },
      orderBy: [{ _count: { domain: 'desc' } }, { domain: 'asc' }],
      take: 20,
    });
    const destinations = await this.destinationCounts(
      top.map((t) => t.domain),
      new Set(paused.map((p) => p.domain)),
    );
    const now = Date.now();
    return {
      recipients,
      messages,
      destinations,
      oldest: oldest
        ? { ...oldest, ageSeconds: Math.max(0, Math.floor((now - oldest.receivedAt.getTime()) / 1000)) }
        : null,
      paused: paused.map(pauseView),
    };
  }

  /** Every destination with recipients waiting, by domain name (paginated). */
  async destinations(page: PageQuery) {
    const names = await paginate(
      { field: 'domain', direction: 'asc' },
      page,
      // Ordered as the keyset says (domain ascending); groupBy's types want it spelled out.
      (args) =>
        this.db.client.recipient.groupBy({
          by: ['domain'],
          where: { AND: [{ status: { in: [...OPEN] } }, args.where] },
          orderBy: { domain: 'asc' },
          take: args.take,
        }),
      (row): string => row.domain,
    );
    const paused = await this.scheduler.pausedDomains(names.items);
    return { items: await this.destinationCounts(names.items, paused), nextCursor: names.nextCursor };
  }

  private async destinationCounts(domains: string[], paused: Set<string>) {
    const counts = await this.db.client.recipient.groupBy({
      by: ['domain', 'status'],
      where: { domain: { in: domains }, status: { in: [...OPEN] } },
      _count: { _all: true },
    });
    return domains.map((domain) => {
      const of = (status: string) =>
        counts.find((c) => c.domain === domain && c.status === status)?._count._all ?? 0;
      const [queued, deferred, held] = [of('queued'), of('deferred'), of('held')];
      return { domain, queued, deferred, held, total: queued + deferred + held, paused: paused.has(domain) };
    });
  }

  private activePauses() {
    return this.db.client.domainPause.findMany({
      where: { OR: [{ pausedUntil: null }, { pausedUntil: { gt: new Date() } }] },
      orderBy: { domain: 'asc' },
    });
  }

  /**
   * Pauses outbound delivery to a destination domain. Its recipients keep their status: the
   * queue manager and the workers leave a paused destination alone (see DeliveryScheduler).
   */
  async pause(domain: string, input: PauseDomain) {
    const data = { reason: input.reason ?? null, pausedUntil: input.until ? new Date(input.until) : null };
    const row = await this.db.client.domainPause.upsert({
      where: { domain },
      create: { domain, ...data },
      update: data,
    });
    return pauseView(row);
  }

  /** Resumes a paused destination and enqueues its recipients that are due. */
  async resume(domain: string) {
    const { count } = await this.db.client.domainPause.deleteMany({ where: { domain } });
    if (count === 0) throw notFound(`a pause of ${domain}`);
    const due = await this.db.client.recipient.findMany({
      where: {
        domain,
        status: { in: ['queued', 'deferred'] },
        route: { not: null },
        OR: [{ nextAttemptAt: null }, { nextAttemptAt: { lte: new Date() } }],
        message: { state: { not: 'held' } },
      },
      select: { id: true, messageId: true, domain: true, route: true, attempts: true },
      orderBy: { createdAt: 'asc' },
      take: RESUME_BATCH * 10,
    });
    const byMessage = new Map<string, DueRecipient[]>();
    for (const r of due) byMessage.set(r.messageId, [...(byMessage.get(r.messageId) ?? []), r]);
    const enqueued: string[] = [];
    let enqueueError: string | undefined;
    for (const [messageId, recipients] of [...byMessage].slice(0, RESUME_BATCH)) {
      const result = await this.scheduler.enqueue(messageId, recipients);
      enqueued.push(...result.enqueued);
      if (result.enqueueError) {
        enqueueError = result.enqueueError;
        break;
      }
    }
    return { domain, resumed: true, enqueued, ...(enqueueError ? { enqueueError } : {}) };
  }
}
