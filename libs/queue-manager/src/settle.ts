/**
 * After any change to a message's recipients: write the failure DSN that is due, and mark the
 * message `done` when every recipient is final: delivered, bounced, or failed without a DSN to
 * write (sender `<>`, NOTIFY=NEVER or NOTIFY without FAILURE).
 */
import { canSendDsn } from '@mta/mail';
import type { DsnWriter } from './bounces';
import type { Context } from './context';
import { markDone, markDoneIfAllDelivered, openRecipients } from './message-store';
import type { MessageRef } from './types';

export class Settler {
  constructor(
    private readonly ctx: Context,
    private readonly dsn: DsnWriter,
  ) {}

  /** Returns true when this call marked the message `done`. */
  async settle(msg: MessageRef): Promise<boolean> {
    const { ctx } = this;
    // Most messages end here: every recipient delivered, one statement.
    if (await markDoneIfAllDelivered(ctx.pool, msg.id)) {
      ctx.logger.child({ queueId: msg.queueId }).info({ state: 'done' }, 'message done');
      return true;
    }
    let open = await openRecipients(ctx.pool, msg.id);
    // Failed recipients may owe a DSN (rare: the DSN writer's own queries run only then).
    if (open.some((r) => r.status === 'failed')) {
      await this.dsn.writeFailures(msg.id);
      open = await openRecipients(ctx.pool, msg.id);
    }
    const bounceable = canSendDsn(msg.sender);
    const unfinished = open.filter(
      (r) => r.status !== 'failed' || (bounceable && this.dsn.wants(r, 'failed')),
    );
    if (unfinished.length > 0) return false;
    const done = await markDone(ctx.pool, msg.id);
    if (done) ctx.logger.child({ queueId: msg.queueId }).info({ state: 'done' }, 'message done');
    return done;
  }
}
