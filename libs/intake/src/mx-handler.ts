import type { MailCommand } from '@mta/smtp-protocol';
import type { SessionInfo } from '@mta/smtp-server';
import { IntakeHandler } from './intake-handler';

/**
 * Port 25: mail from the internet for the domains we host. Any sender may try; the recipient
 * checks (RecipientResolver, unauthenticated) are what keep it from being an open relay.
 * Policy checks (SPF, DNSBL, greylisting...) plug in at the same hooks with the policy issue.
 */
export class MxHandler extends IntakeHandler {
  protected readonly service = 'mx' as const;

  protected async checkSender(_session: SessionInfo, _mail: MailCommand): Promise<void> {
    // Every reverse-path is acceptable on port 25, including <> (bounces, RFC 5321 §4.5.5).
  }
}
