import { parseMailboxList, submissionHeaders, type HeaderBlock } from '@mta/mail';
import { SmtpError, type MailCommand, type SaslCredentials } from '@mta/smtp-protocol';
import type { Envelope, SessionInfo } from '@mta/smtp-server';
import type { AccountDirectory } from './accounts';
import type { AuthThrottle } from './auth-throttle';
import { IntakeHandler, type IntakeDependencies, type IntakeOptions } from './intake-handler';

/**
 * Ports 587 and 465 (RFC 6409, RFC 8314): our own users, authenticated. The server refuses
 * MAIL before AUTH (530 5.7.0) and AUTH before TLS; this handler checks the password, slows
 * down guessing, and makes sure an account only sends as the addresses it owns, in the
 * envelope and in the header From.
 */
export class SubmissionHandler extends IntakeHandler {
  protected readonly service = 'submission' as const;

  constructor(
    deps: IntakeDependencies,
    private readonly accounts: AccountDirectory,
    private readonly throttle: AuthThrottle,
    options: IntakeOptions,
  ) {
    super(deps, options);
  }

  async onAuth(session: SessionInfo, credentials: SaslCredentials): Promise<string | false | SmtpError> {
    const login = credentials.username.toLowerCase();
    // Acting as someone else (RFC 4616 authzid) is not supported: it must be empty or the user.
    if (credentials.authorizationId !== '' && credentials.authorizationId.toLowerCase() !== login) {
      return new SmtpError(535, '5.7.8', 'Authentication credentials invalid');
    }
    if (await this.throttle.lockedOut(session.remoteAddress, login)) {
      this.deps.logger.warn(
        { session: session.id, client: session.remoteAddress, user: login },
        'authentication locked out',
      );
      return new SmtpError(454, '4.7.0', 'Too many failed authentications, try again later');
    }
    if (await this.accounts.verify(login, credentials.password)) {
      await this.throttle.succeeded(login);
      return login;
    }
    const delay = await this.throttle.failed(session.remoteAddress, login);
    this.deps.logger.warn(
      { session: session.id, client: session.remoteAddress, user: login, delay },
      'authentication failed',
    );
    await new Promise((resolve) => setTimeout(resolve, delay));
    return false;
  }

  protected async checkSender(session: SessionInfo, mail: MailCommand): Promise<void> {
    // The null sender cannot impersonate anyone (and auto-responders use it).
    if (mail.from === null || session.user === null) return;
    if (!(await this.accounts.maySendAs(session.user, mail.from.raw))) {
      throw new SmtpError(
        553,
        '5.7.1',
        `<${mail.from.raw}>: Sender address rejected: not owned by user ${session.user}`,
      );
    }
  }

  protected override async prepend(
    session: SessionInfo,
    envelope: Envelope,
    header: HeaderBlock,
    id: string,
  ): Promise<string[]> {
    const lines = await super.prepend(session, envelope, header, id);
    await this.checkHeaderFrom(session, header);
    // RFC 6409 §8.2-8.3: a submission server adds Date and Message-ID when they are missing.
    return [...lines, ...submissionHeaders(header, { hostname: this.options.hostname })];
  }

  /** Every address in From must be one the user may send as (the envelope is not enough). */
  private async checkHeaderFrom(session: SessionInfo, header: HeaderBlock): Promise<void> {
    if (session.user === null) return;
    for (const field of header.getFields('from')) {
      for (const mailbox of parseMailboxList(field.value)) {
        if (!(await this.accounts.maySendAs(session.user, mailbox.address))) {
          throw new SmtpError(553, '5.7.1', `From: <${mailbox.address}> not owned by user ${session.user}`);
        }
      }
    }
  }
}
