import type { Readable } from 'node:stream';
import { buildReceived, checkHops, prependHeaders, type HeaderBlock, type HeaderField } from '@mta/mail';
import type { Logger } from '@mta/observability';
import { SmtpError, type MailCommand, type RcptCommand } from '@mta/smtp-protocol';
import { TransferAbortedError, type Envelope, type SessionInfo, type SmtpHandler } from '@mta/smtp-server';
import { newQueueId } from '@mta/db';
import type { PolicyGate, PolicyRefusal } from '@mta/policy';
import { BodyCollector } from './body-collector';
import { TransactionRecipients, type ExpandedMessage } from './envelope-recipients';
import type { Forwarding } from './forwarding';
import type { StoredMessage } from './incoming-message';
import type { ClientNames } from './client-name';
import type { FlowControl } from './flow-control';
import type { InboundMessage } from './inbound-checks';
import type { MessageWriter } from './message-writer';
import type { RecipientResolver, ResolvedRecipient } from './recipient-resolver';
import type { TransactionLog } from './transaction-log';

export interface IntakeOptions {
  /** Our host name for the Received header. */
  hostname: string;
  /** More `Received:` fields than this is a mail loop: 554 5.4.6 (RFC 5321 §6.3). Default 50, as Postfix. */
  maxReceived?: number;
  /** Leave the client's name and address out of our Received header (privacy). Default false. */
  hideClient?: boolean;
  /** Recipients per message after alias expansion (MAX_RECIPIENTS). Default 1000. */
  maxRecipients?: number;
}

/**
 * Sees a message as it is stored, below our Received field, chunk by chunk, and at the end gives
 * header fields to put in front of it, below Received (submission: the DKIM signatures).
 */
export interface MessageSigner {
  write(chunk: Buffer): void;
  /** CRLF-terminated header fields. */
  finish(): Promise<string[]>;
}

export interface IntakeDependencies {
  resolver: RecipientResolver;
  /** Splits off the forwarded recipients with an SRS sender (forwarding.ts). */
  forwarding: Forwarding;
  writer: MessageWriter;
  /** Holds MAIL FROM while commits fall behind (flow-control.ts). */
  flow: FlowControl;
  log: TransactionLog;
  logger: Logger;
  /** The client's forward-confirmed name (client-name.ts); absent: none is looked up. */
  clientNames?: ClientNames;
  /** Questions to the policy service at connect, MAIL and RCPT (DNS lists, greylisting, rates). */
  policy?: PolicyGate;
}

const refusal = (r: PolicyRefusal | null | undefined) =>
  r ? new SmtpError(r.code, r.enhanced, r.text) : null;

/**
 * What `mx` and `submission` share: recipient checks at RCPT, and at the end of data the
 * message (with our Received header on top) made durable before the 250. The subclasses
 * decide who may send and what is added to the header.
 */
export abstract class IntakeHandler implements SmtpHandler {
  /** Recipients accepted in the current transaction of each session (an alias: its expansion). */
  private readonly accepted = new Map<string, TransactionRecipients>();
  /** The reverse-path of the current transaction of each session, for the policy questions at RCPT. */
  private readonly senders = new Map<string, string>();
  protected abstract readonly service: 'mx' | 'submission';

  constructor(
    protected readonly deps: IntakeDependencies,
    protected readonly options: IntakeOptions,
  ) {}

  /**
   * A client connected: the FCrDNS lookup of its name starts (it runs while the session goes
   * on), and a listed or too frequent client is refused here (554, 421).
   */
  async onConnect(session: SessionInfo): Promise<SmtpError | undefined> {
    this.deps.clientNames?.start(session);
    const refused = refusal(await this.deps.policy?.connect(session));
    if (!refused) return undefined;
    this.deps.logger.info(
      { session: session.id, client: session.remoteAddress, reply: refused.message },
      'connection refused by policy',
    );
    return refused;
  }

  async onMailFrom(session: SessionInfo, mail: MailCommand): Promise<void> {
    const sender = mail.from?.raw ?? '';
    try {
      await this.checkSender(session, mail);
      const refused = refusal(await this.deps.policy?.mail(session, sender));
      if (refused) throw refused;
    } catch (error) {
      if (error instanceof SmtpError) this.deps.log.mailRefused(session, sender, error);
      throw error;
    }
    // The connection closed while this MAIL waited: onClose has run, so record nothing more.
    if (!(await this.deps.flow.admit(session.id))) return;
    this.accepted.set(session.id, new TransactionRecipients(this.options.maxRecipients ?? 1000));
    this.senders.set(session.id, sender);
    this.deps.log.mail(session, sender);
  }

  async onRcptTo(session: SessionInfo, rcpt: RcptCommand): Promise<void> {
    try {
      const resolved = await this.deps.resolver.resolve(rcpt.to, { authenticated: session.user !== null });
      const recipient = resolved[0].via ?? resolved[0].address;
      const sender = this.senders.get(session.id) ?? '';
      const refused = refusal(await this.deps.policy?.rcpt(session, sender, recipient));
      if (refused) throw refused;
      this.accepted.get(session.id)?.add(rcpt.to.raw, resolved);
      this.deps.log.recipient(session, recipient);
    } catch (error) {
      if (error instanceof SmtpError) this.deps.log.recipientRefused(session, rcpt.to.raw, error);
      throw error;
    }
  }

  async onData(session: SessionInfo, envelope: Envelope, body: Readable): Promise<string> {
    const resolved = this.accepted.get(session.id) ?? new TransactionRecipients(0);
    this.accepted.delete(session.id);
    // The queue id is chosen now, so that our Received header can name it (RFC 5321 §4.4 `id`).
    const queueId = newQueueId();
    let dataEnded: bigint | null = null;
    let inbound: InboundMessage | null = null;
    try {
      // Bounded by its deadline (client-name.ts); `received()` names the client with it.
      const clientHostname = (await this.deps.clientNames?.name(session)) ?? null;
      inbound = await this.inbound(session, queueId, envelope, [...resolved.values()]);
      const collector = new BodyCollector();
      // Our Received is kept apart: a signer's fields go below it (`signerFor`).
      const top: { received: Buffer[]; signer: MessageSigner | null } = { received: [], signer: null };
      const header = await prependHeaders(
        inbound ? feeding(body, inbound) : body,
        {
          dropField: this.droppedField(),
          prepend: async (h) => {
            const [received, ...rest] = await this.prepend(session, envelope, h, queueId);
            if (received !== undefined) top.received.push(Buffer.from(received));
            top.signer = await this.signerFor(session, h);
            return rest;
          },
        },
        (chunk) => {
          collector.push(chunk);
          top.signer?.write(chunk);
        },
      );
      // mx: the verdict (or the 550/451 it calls for) before anything is stored.
      const checked = inbound ? await inbound.finish(enforcesDmarc(resolved)) : null;
      dataEnded = process.hrtime.bigint();
      const head = [
        ...(checked?.fields ?? []).map((f) => Buffer.from(f)),
        ...top.received,
        ...(top.signer ? await top.signer.finish() : []).map((f) => Buffer.from(f)),
      ];
      const size = collector.size + head.reduce((n, b) => n + b.length, 0);
      const stored = await this.store({
        queueId,
        source: this.service,
        sender: envelope.mailFrom?.raw ?? '',
        clientAddress: session.remoteAddress,
        clientHostname,
        clientHelo: session.helo?.domain ?? null,
        authUser: session.user,
        recipients: resolved.forStore(envelope.recipients),
        dsnRet: envelope.mailParams.ret ?? null,
        dsnEnvid: envelope.mailParams.envid ?? null,
        smtpUtf8: envelope.mailParams.smtpUtf8,
        eightBitMime: envelope.mailParams.body === '8BITMIME' || envelope.mailParams.body === 'BINARYMIME',
        requireTls: envelope.mailParams.requireTls,
        header: {
          messageId: header?.get('message-id') ?? null,
          from: header?.get('from') ?? null,
          subject: header?.get('subject') ?? null,
        },
        size,
        chunks: [...head, ...collector.finish()],
        authResults: checked?.results ?? null,
        quarantine: checked?.quarantine ?? false,
      });
      this.deps.log.stored(Number(process.hrtime.bigint() - dataEnded) / 1e9);
      this.deps.log.accepted(session, stored.queueId, size);
      return stored.queueId;
    } catch (error) {
      throw this.failed(session, error);
    } finally {
      inbound?.abort();
      // The client's wait for its reply, committed or not, is what flow control keeps short.
      if (dataEnded !== null) this.deps.flow.committed(Number(process.hrtime.bigint() - dataEnded) / 1e6);
      this.deps.flow.release(session.id);
    }
  }

  /**
   * What a transaction that ended without a commit answers and logs: a refusal as it is, a client
   * that closed or reset mid-body as an abandoned transaction (nobody waits for a reply, nothing
   * failed here), anything else as our own failure, 451 4.3.0 and an error line.
   */
  private failed(session: SessionInfo, error: unknown): Error {
    if (error instanceof TransferAbortedError) {
      this.deps.log.abandoned(session);
      return error;
    }
    if (!(error instanceof SmtpError))
      this.deps.logger.error({ session: session.id, err: String(error) }, 'intake failed');
    const reply =
      error instanceof SmtpError
        ? error
        : new SmtpError(451, '4.3.0', 'Local error in processing, please try again later');
    this.deps.log.refused(session, reply);
    return reply;
  }

  onClose(session: SessionInfo): void {
    this.accepted.delete(session.id);
    this.deps.clientNames?.forget(session.id);
    this.senders.delete(session.id);
    this.deps.policy?.forget(session);
    this.deps.flow.release(session.id);
    this.deps.log.closed(session);
  }

  /** The message made durable; forwarded recipients in a copy with an SRS sender, in the same commit. */
  private async store(message: ExpandedMessage): Promise<StoredMessage> {
    const messages = this.deps.forwarding.split(message);
    if (!messages) throw new SmtpError(550, '5.7.1', 'Message not forwarded: it failed the DMARC check');
    const [stored, ...copies] = await this.deps.writer.storeAll(messages);
    for (const copy of copies)
      this.deps.logger.info(
        { queueId: stored.queueId, copy: copy.queueId },
        'forwarded recipients stored apart',
      );
    return stored;
  }

  /** Who may use this reverse-path: the subclass refuses with an SmtpError. */
  protected abstract checkSender(session: SessionInfo, mail: MailCommand): Promise<void>;

  /** What signs the message once its header block is known; null: nothing (mx). */
  protected async signerFor(_session: SessionInfo, _header: HeaderBlock): Promise<MessageSigner | null> {
    return null;
  }

  /** The inbound authentication of this message (mx); null: none (submission). */
  protected async inbound(
    _session: SessionInfo,
    _queueId: string,
    _envelope: Envelope,
    _recipients: readonly ResolvedRecipient[],
  ): Promise<InboundMessage | null> {
    return null;
  }

  /** Header fields of the received message to leave out of the stored one; undefined: none. */
  protected droppedField(): ((field: HeaderField) => boolean) | undefined {
    return undefined;
  }

  /** Header lines to add in front of the message (Received first), or a refusal. */
  protected async prepend(
    session: SessionInfo,
    envelope: Envelope,
    header: HeaderBlock,
    id: string,
  ): Promise<string[]> {
    checkHops(header, this.options.maxReceived ?? 50);
    return [this.received(session, envelope, id)];
  }

  /** The Received field of RFC 5321 §4.4, with the RFC 3848 protocol keyword. */
  protected received(session: SessionInfo, envelope: Envelope, id: string): string {
    return buildReceived({
      helo: session.helo?.domain,
      clientIp: session.remoteAddress,
      clientHostname: this.deps.clientNames?.known(session.id) ?? undefined,
      hideClient: this.options.hideClient ?? false,
      by: this.options.hostname,
      product: 'mta',
      protocol: {
        esmtp: session.helo?.verb === 'EHLO',
        tls: session.tls !== null,
        auth: session.user !== null,
        smtpUtf8: envelope.mailParams.smtpUtf8,
      },
      tls: session.tls
        ? { protocol: session.tls.protocol, cipher: session.tls.cipherStandardName ?? session.tls.cipher }
        : undefined,
      id,
      recipients: envelope.recipients.map((r) => r.address.raw),
    });
  }
}

/** The message as it arrives, handed to the inbound checks on its way to storage. */
async function* feeding(body: Readable, inbound: InboundMessage): AsyncGenerator<Buffer> {
  for await (const chunk of body as AsyncIterable<Buffer>) {
    await inbound.write(chunk);
    yield chunk;
  }
}

/**
 * DMARC is enforced unless every recipient's domain turned enforcement off: one SMTP reply
 * covers all recipients, and adding a recipient of a lenient domain must not open the door for
 * the others.
 */
function enforcesDmarc(recipients: Pick<TransactionRecipients, 'values'>): boolean {
  const all = [...recipients.values()];
  return all.length === 0 || all.some((r) => r.dmarcEnforce !== false);
}
