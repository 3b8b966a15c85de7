import { Injectable } from '@nestjs/common';
import { PrismaService, type Prisma } from '@mta/db';
import { paginate } from '../common/pagination';
import type { ListEventsQuery } from './events.schemas';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const EVENT_SELECT = {
  id: true,
  type: true,
  messageId: true,
  queueId: true,
  detail: true,
  createdAt: true,
  recipient: { select: { address: true } },
} as const satisfies Prisma.EventSelect;

export function eventView(row: Prisma.EventGetPayload<{ select: typeof EVENT_SELECT }>) {
  return {
    id: row.id,
    type: row.type,
    messageId: row.messageId,
    queueId: row.queueId,
    recipient: row.recipient?.address ?? null,
    detail: row.detail,
    createdAt: row.createdAt,
  };
}

/** The delivery log, newest first. */
@Injectable()
export class EventsService {
  constructor(private readonly db: PrismaService) {}

  list(query: ListEventsQuery) {
    const where: Prisma.EventWhereInput = {
      ...eventWhere(query),
      ...(query.since || query.until
        ? {
            createdAt: {
              ...(query.since ? { gte: new Date(query.since) } : {}),
              ...(query.until ? { lt: new Date(query.until) } : {}),
            },
          }
        : {}),
    };
    return paginate(
      { field: 'createdAt', direction: 'desc', time: true },
      query,
      (args) =>
        this.db.client.event.findMany({ ...args, where: { AND: [where, args.where] }, select: EVENT_SELECT }),
      eventView,
    );
  }
}

/** The filters the list and the stream share: the message (queue id or UUID) and the type. */
export function eventWhere(query: Pick<ListEventsQuery, 'messageId' | 'type'>): Prisma.EventWhereInput {
  return {
    ...(query.messageId
      ? UUID.test(query.messageId)
        ? { messageId: query.messageId.toLowerCase() }
        : { queueId: query.messageId.toUpperCase() }
      : {}),
    ...(query.type ? { type: query.type } : {}),
  };
}
