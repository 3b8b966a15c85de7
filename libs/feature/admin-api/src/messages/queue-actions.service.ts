import { Injectable } from '@nestjs/common';
import { PrismaService, type Prisma } from '@mta/db';
import { conflict, notFound } from '../common/errors';
import { DeliveryScheduler } from '../queue/delivery-scheduler';
import { MessagesService, messageKey } from './messages.service';

const PENDING = ['queued', 'deferred'] as const;
const RECIPIENT_SELECT = { id: true, domain: true, route: true, attempts: true, status: true } as const;

/**
 * The queue actions of the API, as state changes in PostgreSQL (the source of truth) with an
 * event row each, followed by the matching jobs in Redis for retry and release.
 *
 * Contract for the queue manager and the delivery workers (see DeliveryScheduler too):
 * - `held` (message state and recipient status) means never delivered, not even by a job that
 *   was already on the queue; only release (or delete) ends it. The retry schedule and the
 *   expiry clock keep running.
 * - `nextAttemptAt = now` (retry, release) means due now: deliver at the next chance.
 * - Recipients `failed` by a delete with bounce=true get a DSN like any other failure.
 */
@Injectable()
export class QueueActionsService {
  constructor(
    private readonly db: PrismaService,
    private readonly messages: MessagesService,
    private readonly scheduler: DeliveryScheduler,
  ) {}

  private async load(id: string) {
    const message = await this.db.client.message.findUnique({
      where: messageKey(id),
      select: { id: true, queueId: true, state: true, recipients: { select: RECIPIENT_SELECT } },
    });
    if (!message) throw notFound(`message ${id}`);
    return message;
  }

  private event(
    message: { id: string; queueId: string },
    type: 'held' | 'released' | 'deleted' | 'failed',
    detail: Prisma.InputJsonObject,
    recipientId?: string,
  ) {
    return { type, messageId: message.id, queueId: message.queueId, recipientId, detail } as const;
  }

  /** Deliver the pending recipients now instead of at their scheduled time. */
  async retry(id: string) {
    const message = await this.load(id);
    if (message.state === 'held') throw conflict(`message ${message.queueId} is held: release it instead`);
    const due = message.recipients.filter((r) => (PENDING as readonly string[]).includes(r.status));
    if (due.length === 0) throw conflict(`message ${message.queueId} has no recipient waiting for delivery`);
    const now = new Date();
    await this.db.client.recipient.updateMany({
      where: { id: { in: due.map((r) => r.id) }, status: { in: [...PENDING] } },
      data: { status: 'queued', nextAttemptAt: now },
    });
    const result = await this.scheduler.enqueue(message.id, due);
    return { message: await this.messages.summary(message.id), changed: due.length, ...result };
  }

  /** Stop delivery of every pending recipient until released. */
  async hold(id: string, actor: string) {
    const message = await this.load(id);
    if (message.state === 'held') throw conflict(`message ${message.queueId} is already held`);
    if (message.state === 'done') throw conflict(`message ${message.queueId} is done: nothing left to hold`);
    const pending = message.recipients.filter((r) => (PENDING as readonly string[]).includes(r.status));
    if (pending.length === 0)
      throw conflict(`message ${message.queueId} has no recipient waiting for delivery to hold`);
    await this.db.client.$transaction([
      this.db.client.recipient.updateMany({
        where: { id: { in: pending.map((r) => r.id) }, status: { in: [...PENDING] } },
        data: { status: 'held' },
      }),
      this.db.client.message.update({ where: { id: message.id }, data: { state: 'held' } }),
      this.db.client.event.create({
        data: this.event(message, 'held', { by: actor, recipients: pending.length }),
      }),
    ]);
    await this.scheduler.withdraw(message.id, pending);
    return { message: await this.messages.summary(message.id), changed: pending.length, enqueued: [] };
  }

  /** Resume delivery of a held message: its held recipients are due now. */
  async release(id: string, actor: string) {
    const message = await this.load(id);
    if (message.state !== 'held') throw conflict(`message ${message.queueId} is not held`);
    const held = message.recipients.filter((r) => r.status === 'held');
    const routed = message.recipients.some((r) => r.route !== null);
    const open = message.recipients.some((r) => ['queued', 'deferred', 'held'].includes(r.status));
    await this.db.client.$transaction([
      this.db.client.recipient.updateMany({
        where: { id: { in: held.map((r) => r.id) }, status: 'held' },
        data: { status: 'queued', nextAttemptAt: new Date() },
      }),
      this.db.client.message.update({
        where: { id: message.id },
        data: { state: !open ? 'done' : routed ? 'queued' : 'received' },
      }),
      this.db.client.event.create({
        data: this.event(message, 'released', { by: actor, recipients: held.length }),
      }),
    ]);
    const result = held.length > 0 ? await this.scheduler.enqueue(message.id, held) : { enqueued: [] };
    return { message: await this.messages.summary(message.id), changed: held.length, ...result };
  }

  /**
   * bounce=false: deletes the message and everything about it except its event rows (which
   * keep its queue id). bounce=true: fails every recipient not yet final, so the queue manager
   * bounces them to the sender; the message goes when that is done.
   */
  async remove(id: string, bounce: boolean, actor: string) {
    const message = await this.load(id);
    const open = message.recipients.filter((r) => ['queued', 'deferred', 'held'].includes(r.status));
    if (!bounce) {
      await this.db.client.$transaction([
        this.db.client.event.create({
          data: this.event(message, 'deleted', { by: actor, recipients: open.length }),
        }),
        this.db.client.message.delete({ where: { id: message.id } }),
      ]);
      await this.scheduler.withdraw(message.id, open);
      return undefined;
    }
    if (open.length === 0)
      throw conflict(`message ${message.queueId} has no undelivered recipient to bounce`);
    const reason = 'message deleted by the postmaster';
    await this.db.client.$transaction([
      this.db.client.recipient.updateMany({
        where: { id: { in: open.map((r) => r.id) }, status: { in: ['queued', 'deferred', 'held'] } },
        data: {
          status: 'failed',
          nextAttemptAt: null,
          lastReplyCode: null,
          lastEnhancedCode: '5.0.0',
          lastReplyText: reason,
        },
      }),
      this.db.client.message.update({ where: { id: message.id }, data: { state: 'queued' } }),
      this.db.client.event.createMany({
        data: open.map((r) => this.event(message, 'failed', { by: actor, reason }, r.id)),
      }),
    ]);
    await this.scheduler.withdraw(message.id, open);
    return { message: await this.messages.summary(message.id), changed: open.length, enqueued: [] };
  }
}
