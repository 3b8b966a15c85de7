import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { PrismaService, type Prisma } from '@mta/db';
import { eventWhere, EVENT_SELECT, eventView } from './events.service';
import type { StreamEventsQuery } from './events.schemas';

/**
 * An event's `createdAt` is its transaction's start: one that commits a moment later can appear
 * behind events already sent. Each look therefore starts OVERLAP_MS before the newest event sent
 * and skips the ids already sent (forgotten once older than twice that).
 */
const OVERLAP_MS = 5_000;
const PAGE = 500;
const POLL_MS = 500;

type View = ReturnType<typeof eventView>;
type Row = Prisma.EventGetPayload<{ select: typeof EVENT_SELECT }>;

/** The live event feed behind GET /api/v1/events/stream: new events, oldest first, page by page. */
@Injectable()
export class EventsStream {
  constructor(private readonly db: PrismaService) {}

  /**
   * Calls `ready` once the stream's start is fixed, then `send` with each page of new events until
   * `signal` aborts. Memory: a page and the ids of the overlap.
   */
  async follow(
    query: StreamEventsQuery,
    send: (events: View[]) => Promise<void>,
    signal: AbortSignal,
    ready: () => void = () => undefined,
  ) {
    const seen = new Map<string, number>();
    let from = query.since ? new Date(query.since) : new Date(Date.now() - OVERLAP_MS);
    // From now on: what is there already counts as sent, so a transaction that started before
    // the stream and commits after it still shows. Only then is the client told the stream is
    // open (`ready`): an event it causes after that is never in this snapshot.
    if (!query.since)
      await this.pages(query, from, async (rows) =>
        rows.forEach((r) => seen.set(r.id, r.createdAt.getTime())),
      );
    ready();
    while (!signal.aborted) {
      await this.pages(query, from, async (rows) => {
        const fresh = rows.filter((r) => !seen.has(r.id));
        for (const r of fresh) seen.set(r.id, r.createdAt.getTime());
        if (fresh.length > 0 && !signal.aborted) await send(fresh.map(eventView));
      });
      const newest = Math.max(from.getTime() + OVERLAP_MS, ...seen.values());
      from = new Date(newest - OVERLAP_MS);
      for (const [id, at] of seen) if (at < newest - 2 * OVERLAP_MS) seen.delete(id);
      await sleep(POLL_MS, undefined, { signal }).catch(() => undefined);
    }
  }

  /** Every event from `from` on, a page at a time. */
  private async pages(query: StreamEventsQuery, from: Date, each: (rows: Row[]) => Promise<void>) {
    let after: { at: Date; id: string } | undefined;
    for (;;) {
      const rows = await this.page(query, from, after);
      await each(rows);
      const last = rows.at(-1);
      if (!last || rows.length < PAGE) return;
      after = { at: last.createdAt, id: last.id };
    }
  }

  private page(query: StreamEventsQuery, from: Date, after?: { at: Date; id: string }) {
    const keyset: Prisma.EventWhereInput = after
      ? { OR: [{ createdAt: { gt: after.at } }, { createdAt: after.at, id: { gt: after.id } }] }
      : { createdAt: { gte: from } };
    return this.db.client.event.findMany({
      where: { AND: [eventWhere({ messageId: query.messageId, type: query.type }), keyset] },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: PAGE,
      select: EVENT_SELECT,
    });
  }
}
