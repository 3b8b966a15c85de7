/**
 * After any change to a message's recipients: write the failure DSN that is due, and mark the
 * message `done` when every recipient is final: delivered, bounced, or failed without a DSN to
 * write (sender `<>`, NOTIFY=NEVER or NOTIFY without FAILURE).
 */
import { canSendDsn } from '@mta/mail';
import type { DsnWriter } from './bounces';
import type { Context } from './context';
import type { MessageRef } from './types';

export class Settler {
  constructor(
    private readonly ctx: Context,
    private readonly dsn: DsnWriter,
  ) {}

  /** Returns true when this call marked the message `done`. */
  async settle(msg: MessageRef): Promise<boolean> {
    const { ctx } = this;
    await this.dsn.writeFailures(msg.id);
    const open = await ctx.db.recipient.findMany({
      where: { messageId: msg.id, status: { notIn: ['delivered', 'bounced'] } },
      select: { status: true, dsnNotify: true },
    });
    const bounceable = canSendDsn(msg.sender);
    const unfinished = open.filter(
      (r) => r.status !== 'failed' || (bounceable && this.dsn.wants(r, 'failed')),
    );
    if (unfinished.length > 0) return false;
    const { count } = await ctx.db.message.updateMany({
      where: { id: msg.id, state: 'queued' },
      data: { state: 'done' },
    });
    if (count > 0) ctx.logger.child({ queueId: msg.queueId }).info({ state: 'done' }, 'message done');
    return count > 0;
  }
}
