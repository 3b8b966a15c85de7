/**
 * After any change to a message's recipients: write the failure DSN that is due, and mark the
 * message `done` when every recipient is final: delivered, bounced, or failed without a DSN to
 * write (sender `<>`, NOTIFY=NEVER or NOTIFY without FAILURE).
 */
import { canSendDsn } from '@mta/mail';
import type { DsnWriter } from './bounces';
import type { Context } from './context';
import {
  RecipientStatus,
  markDone,
  markDoneIfAllDelivered,
  openRecipients,
  type MessageRef,
} from '@mta/queue-state';

export class Settler {
  constructor(
    private readonly ctx: Context,
    private readonly dsn: DsnWriter,
  ) {}

  /** Returns true when this call marked the message `done`. */
  async settle(msg: MessageRef): Promise<boolean> {
    return (await this.settleMany([msg])).has(msg.id);
  }

  /** Settles each of these messages; returns the ids of those this call marked `done`. */
  async settleMany(msgs: readonly MessageRef[]): Promise<Set<string>> {
    if (msgs.length === 0) return new Set();
    const { ctx } = this;
    // Most messages end here: every recipient delivered, one statement for the lot.
    const done = await markDoneIfAllDelivered(
      ctx.pool,
      msgs.map((m) => m.id),
    );
    for (const msg of msgs) {
      if (done.has(msg.id)) this.logDone(msg);
      else if (await this.settleRest(msg)) done.add(msg.id);
    }
    return done;
  }

  /** A message with recipients that are not delivered: DSNs due, and `done` once all are final. */
  private async settleRest(msg: MessageRef): Promise<boolean> {
    const { ctx } = this;
    let open = await openRecipients(ctx.pool, msg.id);
    // Failed recipients may owe a DSN (rare: the DSN writer's own queries run only then).
    if (open.some((r) => r.status === RecipientStatus.failed)) {
      await this.dsn.writeFailures(msg.id);
      open = await openRecipients(ctx.pool, msg.id);
    }
    const bounceable = canSendDsn(msg.sender);
    const unfinished = open.filter(
      (r) => r.status !== RecipientStatus.failed || (bounceable && this.dsn.wants(r, 'failed')),
    );
    if (unfinished.length > 0) return false;
    const done = await markDone(ctx.pool, msg.id);
    if (done) this.logDone(msg);
    return done;
  }

  /** The log line of a message marked `done` (here, or by the outcome applier's commit). */
  logDone(msg: MessageRef): void {
    this.ctx.logger.child({ queueId: msg.queueId }).info({ state: 'done' }, 'message done');
  }
}
