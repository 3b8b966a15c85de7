import { Injectable } from '@nestjs/common';
import { PrismaService, type DomainPause } from '@mta/db';
import { QueueDispatch } from '@mta/queue-manager';
import {
  MESSAGE_STATES,
  MessageState,
  OPEN,
  RECIPIENT_STATUSES,
  RecipientStatus,
  bringForward,
  countsByStatus,
} from '@mta/queue-state';
import { notFound } from '../common/errors';
import { paginate, type PageQuery } from '../common/pagination';
import type { PauseDomain } from './queue.schemas';

/** How many messages a resume dispatches at once; the reconciler finds the rest. */
const RESUME_BATCH = 1000;

function pauseView(row: DomainPause) {
  return { domain: row.domain, reason: row.reason, pausedUntil: row.pausedUntil, createdAt: row.createdAt };
}

@Injectable()
export class QueueService {
  constructor(
    private readonly db: PrismaService,
    private readonly dispatch: QueueDispatch,
  ) {}

  async summary() {
    const db = this.db.client;
    const [byStatus, byState, oldest, paused] = await Promise.all([
      db.recipient.groupBy({ by: ['status'], _count: { _all: true } }),
      db.message.groupBy({ by: ['state'], _count: { _all: true } }),
      db.message.findFirst({
        where: { state: { not: MessageState.done } },
        orderBy: [{ receivedAt: 'asc' }, { id: 'asc' }],
        select: { queueId: true, receivedAt: true },
      }),
      this.activePauses(),
    ]);
    const recipients = countsByStatus(
      RECIPIENT_STATUSES,
      byStatus.map((row) => ({ key: row.status, count: row._count._all })),
    );
    const messages = countsByStatus(
      MESSAGE_STATES,
      byState.map((row) => ({ key: row.state, count: row._count._all })),
    );
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
    const paused = await this.pausedDomains(names.items);
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
      const { queued, deferred, held } = RecipientStatus;
      const [q, d, h] = [of(queued), of(deferred), of(held)];
      return { domain, queued: q, deferred: d, held: h, total: q + d + h, paused: paused.has(domain) };
    });
  }

  /** Destination domains whose delivery is paused now. */
  private async pausedDomains(domains: string[]): Promise<Set<string>> {
    if (domains.length === 0) return new Set();
    const rows = await this.db.client.domainPause.findMany({
      where: {
        domain: { in: [...new Set(domains)] },
        OR: [{ pausedUntil: null }, { pausedUntil: { gt: new Date() } }],
      },
      select: { domain: true },
    });
    return new Set(rows.map((r) => r.domain));
  }

  private activePauses() {
    return this.db.client.domainPause.findMany({
      where: { OR: [{ pausedUntil: null }, { pausedUntil: { gt: new Date() } }] },
      orderBy: { domain: 'asc' },
    });
  }

  /**
   * Pauses outbound delivery to a destination domain. Its recipients keep their status: the
   * queue manager's dispatcher gives a paused destination no job and puts its recipients off, and
   * the workers skip a job whose destination is paused.
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

  /**
   * Resumes a paused destination: its waiting recipients the pause held back are due now
   * (@mta/queue-state `bringForward`), and the queue manager is asked to dispatch them.
   */
  async resume(domain: string) {
    const { count } = await this.db.client.domainPause.deleteMany({ where: { domain } });
    if (count === 0) throw notFound(`a pause of ${domain}`);
    const due = await bringForward(
      this.db.client,
      domain,
      new Date(),
      this.dispatch.pauseRecheckMs,
      RESUME_BATCH * 10,
    );
    const enqueued: string[] = [];
    let enqueueError: string | undefined;
    for (const [messageId, recipientIds] of [...due].slice(0, RESUME_BATCH)) {
      const result = await this.dispatch.now(messageId, recipientIds);
      enqueued.push(...result.enqueued);
      if (result.enqueueError) {
        enqueueError = result.enqueueError;
        break;
      }
    }
    return { domain, resumed: true, enqueued, ...(enqueueError ? { enqueueError } : {}) };
  }
}
