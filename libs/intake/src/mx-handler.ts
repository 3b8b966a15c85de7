import type { HeaderField } from '@mta/mail';
import { SmtpError, type MailCommand } from '@mta/smtp-protocol';
import type { Envelope, SessionInfo } from '@mta/smtp-server';
import type { InboundChecks, InboundMessage } from './inbound-checks';
import { IntakeHandler, type IntakeDependencies, type IntakeOptions } from './intake-handler';
import type { ResolvedRecipient } from './recipient-resolver';

/** A transaction the inbound policy refused, for the event log (no message row exists). */
export interface PolicyRefusal {
  queueId: string;
  client: string;
  helo: string | null;
  sender: string;
  recipients: string[];
  reply: string;
}

/**
 * Port 25: mail from the internet for the domains we host. Any sender may try; the recipient
 * checks (RecipientResolver, unauthenticated) are what keep it from being an open relay. The
 * inbound authentication (inbound-checks.ts: SPF at MAIL FROM, DKIM/ARC/DMARC over the data)
 * decides at the end of data; forged Authentication-Results are always dropped.
 */
export class MxHandler extends IntakeHandler {
  protected readonly service = 'mx' as const;

  constructor(
    deps: IntakeDependencies,
    options: IntakeOptions,
    private readonly checks: InboundChecks,
    private readonly recordRefusal: (refusal: PolicyRefusal) => Promise<void>,
  ) {
    super(deps, options);
  }

  protected async checkSender(session: SessionInfo, mail: MailCommand): Promise<void> {
    // Every reverse-path is acceptable on port 25, including <> (bounces, RFC 5321 §4.5.5);
    // SPF starts here and counts at the end of data, through DMARC.
    this.checks.mailFrom(session.id, {
      clientIp: session.remoteAddress,
      helo: session.helo?.domain ?? null,
      sender: mail.from?.raw ?? '',
    });
  }

  protected override async inbound(
    session: SessionInfo,
    queueId: string,
    envelope: Envelope,
    recipients: readonly ResolvedRecipient[],
  ): Promise<InboundMessage | null> {
    // Mail for a relay domain goes on to its own MX: we seal it (RFC 8617 §5.1).
    const relayed = recipients.some((r) => r.route === 'relay');
    const message = await this.checks.message(session.id, relayed);
    if (!message) return null;
    return {
      ...message,
      finish: async (enforce) => {
        try {
          return await message.finish(enforce);
        } catch (error) {
          if (error instanceof SmtpError) await this.refused(session, queueId, envelope, error);
          throw error;
        }
      },
    };
  }

  protected override droppedField(): (field: HeaderField) => boolean {
    return this.checks.isForgedAuthResults;
  }

  override onClose(session: SessionInfo): void {
    this.checks.forget(session.id);
    super.onClose(session);
  }

  private async refused(session: SessionInfo, queueId: string, envelope: Envelope, error: SmtpError) {
    const refusal: PolicyRefusal = {
      queueId,
      client: session.remoteAddress,
      helo: session.helo?.domain ?? null,
      sender: envelope.mailFrom?.raw ?? '',
      recipients: envelope.recipients.map((r) => r.address.raw),
      reply: `${error.code} ${error.enhanced ?? ''} ${error.text}`.replace(/\s+/g, ' '),
    };
    // The refusal stands whether or not the event could be written (the log line has it too).
    await this.recordRefusal(refusal).catch((err: unknown) =>
      this.deps.logger.warn({ session: session.id, err: String(err) }, 'refused event not recorded'),
    );
  }
}
