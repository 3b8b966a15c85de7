import {
  parseMailboxList,
  parseMailboxListStrict,
  submissionHeaders,
  type HeaderBlock,
  type Mailbox,
} from '@mta/mail';
import { DkimStreamSigner } from '@mta/policy';
import { SmtpError, type MailCommand, type SaslCredentials } from '@mta/smtp-protocol';
import type { Envelope, SessionInfo } from '@mta/smtp-server';
import type { AccountDirectory } from './accounts';
import type { AuthThrottle } from './auth-throttle';
import type { DkimKeyStore } from './dkim-keys';
import {
  IntakeHandler,
  type IntakeDependencies,
  type IntakeOptions,
  type MessageSigner,
} from './intake-handler';

/**
 * Ports 587 and 465 (RFC 6409, RFC 8314): our own users, authenticated. The server refuses
 * MAIL before AUTH (530 5.7.0) and AUTH before TLS; this handler checks the password, slows
 * down guessing, and makes sure an account only sends as the addresses it owns, in the
 * envelope and in the header From. What it accepts is DKIM-signed for the header From's domain
 * when that domain has an active key.
 */
export class SubmissionHandler extends IntakeHandler {
  protected readonly service = 'submission' as const;

  constructor(
    deps: IntakeDependencies,
    private readonly accounts: AccountDirectory,
    private readonly throttle: AuthThrottle,
    private readonly dkimKeys: DkimKeyStore,
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
      await this.throttle.succeeded(session.remoteAddress, login);
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

  /**
   * DKIM (RFC 6376) with the keys of the header From's domain (its first mailbox: the domain
   * DMARC aligns with, RFC 7489 §3.1), so `d=` is that domain. The signer reads the message
   * below our Received field: Received is never signed (RFC 6376 §5.4.1) and stays on top,
   * where trace fields belong (RFC 5322 §3.6.7), with the DKIM-Signature fields right under it.
   * A key that cannot sign is logged (selector, reason) and the message goes unsigned by it.
   */
  protected override async signerFor(
    session: SessionInfo,
    header: HeaderBlock,
  ): Promise<MessageSigner | null> {
    if (session.user === null) return null;
    const from = header.getFields('from')[0];
    const domain = from ? parseMailboxList(from.value)[0]?.domain : undefined;
    if (!domain) return null;
    const keys = await this.dkimKeys.signingKeys(domain);
    if (keys.length === 0) return null;
    const signer = new DkimStreamSigner(keys);
    return {
      write: (chunk) => signer.write(chunk),
      finish: async () => {
        const { signatures, failures } = await signer.finish();
        for (const failure of failures)
          this.deps.logger.error({ session: session.id, domain, ...failure }, 'DKIM signing failed');
        return signatures;
      },
    };
  }

  /**
   * The header From (and Sender) must name exactly mailboxes the user may send as (the envelope
   * is not enough). Parsed strictly (RFC 5322 §3.6.2): text after an address, a group or a
   * display name holding an address would let a reader see another author than we checked.
   * The content rules of the SMTP layer already refused bare CR and NUL, so the header lines we
   * read here are the lines every later parser reads.
   */
  private async checkHeaderFrom(session: SessionInfo, header: HeaderBlock): Promise<void> {
    const user = session.user;
    if (user === null) return;
    const froms = header.getFields('from');
    const authors: Mailbox[] = [];
    for (const field of froms) authors.push(...(await this.ownedMailboxes(user, 'From', field.value)));
    // RFC 5322 §3.6: From occurs once (a missing one is left to the reader, as before).
    if (froms.length > 1) throw new SmtpError(550, '5.6.0', 'Message has more than one From field');
    const senders = header.getFields('sender');
    if (senders.length > 1) throw new SmtpError(550, '5.6.0', 'Message has more than one Sender field');
    const sender = senders[0];
    // RFC 5322 §3.6.2: several authors need a Sender, which is one mailbox.
    if (authors.length > 1 && sender === undefined)
      throw new SmtpError(
        550,
        '5.6.0',
        'From holds several mailboxes: a Sender field is required (RFC 5322 §3.6.2)',
      );
    if (sender !== undefined && (await this.ownedMailboxes(user, 'Sender', sender.value)).length !== 1)
      throw new SmtpError(553, '5.1.7', 'Sender: must be exactly one mailbox (RFC 5322 §3.6.2)');
  }

  /** The mailboxes of a From or Sender value, each one the user may send as; else 553. */
  private async ownedMailboxes(user: string, name: 'From' | 'Sender', value: string): Promise<Mailbox[]> {
    const parsed = parseMailboxListStrict(value);
    if (!parsed.ok) throw new SmtpError(553, '5.1.7', `${name}: not a valid mailbox list (${parsed.reason})`);
    for (const mailbox of parsed.mailboxes) {
      if (!(await this.accounts.maySendAs(user, mailbox.address))) {
        throw new SmtpError(553, '5.7.1', `${name}: <${mailbox.address}> not owned by user ${user}`);
      }
    }
    return parsed.mailboxes;
  }
}
