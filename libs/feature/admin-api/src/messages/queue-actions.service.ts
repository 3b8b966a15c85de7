import { Injectable } from '@nestjs/common';
import { PrismaService } from '@mta/db';
import { QueueDispatch, type DispatchAnswer } from '@mta/queue-manager';
import {
  ADMIN_RECIPIENT,
  cancelMessage,
  deleteMessage,
  holdMessage,
  releaseMessage,
  retryMessage,
  type AdminMessage,
  type MoveResult,
} from '@mta/queue-state';
import { conflict, notFound } from '../common/errors';
import { MessagesService, messageKey } from './messages.service';

/**
 * The queue actions of the API, as `postsuper` does them: the state changes through the owner
 * of a message's life (@mta/queue-state: the transitions table decides what is allowed, 409
 * otherwise), then the queue manager is asked to dispatch (`QueueDispatch`: its dispatcher, with
 * RELAY_HOST, pauses and suppressions) or to withdraw the waiting jobs (hold, delete). This
 * service plans no job and writes no status itself.
 */
@Injectable()
export class QueueActionsService {
  constructor(
    private readonly db: PrismaService,
    private readonly messages: MessagesService,
    private readonly dispatch: QueueDispatch,
  ) {}

  private async load(id: string): Promise<AdminMessage> {
    const message = await this.db.client.message.findUnique({
      where: messageKey(id),
      select: { id: true, queueId: true, state: true, recipients: { select: ADMIN_RECIPIENT } },
    });
    if (!message) throw notFound(`message ${id}`);
    return message;
  }

  /** Deliver the pending recipients now instead of at their scheduled time. */
  async retry(id: string) {
    const message = await this.load(id);
    const moved = allowed(await retryMessage(this.db.client, message, new Date()));
    const answer = await this.dispatch.now(message.id, ids(moved));
    return this.answer(message, moved, answer);
  }

  /** Stop delivery of every pending recipient until released. */
  async hold(id: string, actor: string) {
    const message = await this.load(id);
    const moved = allowed(await holdMessage(this.db.client, message, actor));
    await this.dispatch.withdraw(message.id, moved.changed);
    return this.answer(message, moved, { enqueued: [] });
  }

  /** Resume delivery of a held message: its held recipients are due now. */
  async release(id: string, actor: string) {
    const message = await this.load(id);
    const moved = allowed(await releaseMessage(this.db.client, message, actor, new Date()));
    const answer =
      moved.changed.length > 0 ? await this.dispatch.now(message.id, ids(moved)) : { enqueued: [] };
    return this.answer(message, moved, answer);
  }

  /**
   * bounce=false: deletes the message and everything about it except its event rows (which
   * keep its queue id). bounce=true: fails every recipient not yet final, so the queue manager
   * bounces them to the sender; the message goes when that is done.
   */
  async remove(id: string, bounce: boolean, actor: string) {
    const message = await this.load(id);
    const moved = allowed(
      bounce
        ? await cancelMessage(this.db.client, message, actor)
        : await deleteMessage(this.db.client, message, actor),
    );
    await this.dispatch.withdraw(message.id, moved.changed);
    return bounce ? this.answer(message, moved, { enqueued: [] }) : undefined;
  }

  private async answer(message: AdminMessage, moved: Moved, answer: DispatchAnswer) {
    return { message: await this.messages.summary(message.id), changed: moved.changed.length, ...answer };
  }
}

type Moved = Extract<MoveResult, { ok: true }>;

/** The move's result, or the 409 the table's refusal means. */
function allowed(result: MoveResult): Moved {
  if (!result.ok) throw conflict(result.reason);
  return result;
}

const ids = (moved: Moved) => moved.changed.map((r) => r.id);
