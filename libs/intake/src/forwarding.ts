import type { Srs } from '@mta/mail';
import type { Logger } from '@mta/observability';
import type { EnvelopeRecipient, ExpandedMessage } from './envelope-recipients';
import type { IncomingMessage } from './incoming-message';

/**
 * Says whether mail may be forwarded to outside addresses: the DMARC hook (`passedDmarc`).
 */
export type ForwardingPolicy = (message: ExpandedMessage) => boolean;

/**
 * Mail that failed our own DMARC check (mx's inbound checks, `authResults`; p=none or
 * quarantine let it in, or the recipient domain does not enforce) is never forwarded: with our
 * SRS sender it would reach the outside with our domain's SPF pass, lending our reputation to a
 * forgery. Submission (no verdict) and mail without a DMARC result may be.
 */
export const passedDmarc: ForwardingPolicy = (message) => message.authResults?.dmarc?.result !== 'fail';

/**
 * Forwarding with SRS: recipients reached through an alias (or an SRS address) that are not
 * ours leave with a rewritten envelope sender in our SRS domain (srs.ts), so the receiver's SPF
 * check sees our domain and its bounce comes back to us, and from us to the original sender.
 *
 * One DATA may thus become two stored messages, written in the same commit: the message, with
 * the client's sender, for every other recipient (our mailboxes, the addresses the client named);
 * and a copy, with the SRS sender, for the forwarded ones. The reply names the first (the copy
 * when there is nothing else). The null sender `<>` stays null: nothing to rewrite, one message.
 */
export class Forwarding {
  constructor(
    private readonly srs: Srs | null,
    private readonly newQueueId: () => string,
    private readonly logger: Logger,
    private readonly mayForward: ForwardingPolicy = () => true,
  ) {}

  /** The messages to store, the one the client's reply names first; null: nothing may be stored. */
  split(message: ExpandedMessage): IncomingMessage[] | null {
    const strip = (list: EnvelopeRecipient[]) => list.map(({ forwarded: _, ...r }) => r);
    let forwarded = message.recipients.filter((r) => r.forwarded);
    const kept = message.recipients.filter((r) => !r.forwarded);
    if (forwarded.length > 0 && !this.mayForward(message)) {
      this.logger.warn(
        { queueId: message.queueId, dropped: forwarded.map((r) => r.address) },
        'not forwarded: the message failed our DMARC check',
      );
      forwarded = [];
      if (kept.length === 0) return null;
    }
    const sender = forwarded.length > 0 && this.srs ? this.srs.forward(message.sender) : message.sender;
    if (sender === message.sender) return [{ ...message, recipients: strip([...kept, ...forwarded]) }];
    if (kept.length === 0) return [{ ...message, sender, recipients: strip(forwarded) }];
    return [
      { ...message, recipients: strip(kept) },
      { ...message, queueId: this.newQueueId(), sender, recipients: strip(forwarded) },
    ];
  }
}
