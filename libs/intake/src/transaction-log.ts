import type { Logger } from '@mta/observability';
import type { SessionInfo } from '@mta/smtp-server';
import { IntakeMetrics, reasonOf } from './intake-metrics';

interface Transaction {
  sender: string | null;
  recipients: string[];
  refusedRecipients: { address: string; code: number; enhanced?: string }[];
}

/**
 * One JSON log line per mail transaction, accepted or refused, with the client address, HELO,
 * sender, recipients, result and queue id; and the matching Prometheus counters. A transaction
 * starts at MAIL and ends at the end of data, at the next MAIL (abandoned), or when the
 * connection closes.
 */
export class TransactionLog {
  private readonly open = new Map<string, Transaction>();

  constructor(
    private readonly service: 'mx' | 'submission',
    private readonly logger: Logger,
    private readonly metrics: IntakeMetrics,
  ) {}

  mail(session: SessionInfo, sender: string): void {
    this.abandoned(session);
    this.open.set(session.id, { sender, recipients: [], refusedRecipients: [] });
  }

  mailRefused(
    session: SessionInfo,
    sender: string,
    error: { code: number; enhanced?: string; text: string },
  ): void {
    this.abandoned(session);
    this.write(session, { sender, recipients: [], refusedRecipients: [] }, 'refused', {
      stage: 'mail',
      error,
    });
  }

  recipient(session: SessionInfo, address: string): void {
    this.open.get(session.id)?.recipients.push(address);
    this.metrics.recipients.inc({ service: this.service, result: 'accepted', reason: '' });
  }

  recipientRefused(session: SessionInfo, address: string, error: { code: number; enhanced?: string }): void {
    this.open
      .get(session.id)
      ?.refusedRecipients.push({ address, code: error.code, enhanced: error.enhanced });
    this.metrics.recipients.inc({ service: this.service, result: 'refused', reason: reasonOf(error) });
  }

  /** How long the client waited between its final dot and our 250 (storage and enqueue). */
  stored(seconds: number): void {
    this.metrics.storeSeconds.observe({ service: this.service }, seconds);
  }

  accepted(session: SessionInfo, queueId: string, size: number): void {
    const transaction = this.take(session);
    if (transaction) this.write(session, transaction, 'accepted', { queueId, size });
  }

  refused(session: SessionInfo, error: { code: number; enhanced?: string; text: string }): void {
    const transaction = this.take(session);
    if (transaction) this.write(session, transaction, 'refused', { stage: 'data', error });
  }

  /** The connection closed; a transaction still open was abandoned. */
  closed(session: SessionInfo): void {
    this.abandoned(session);
  }

  /** The client gave up on the transaction (closed or reset mid-body). */
  abandoned(session: SessionInfo): void {
    const transaction = this.take(session);
    if (transaction) this.write(session, transaction, 'abandoned', {});
  }

  private take(session: SessionInfo): Transaction | undefined {
    const transaction = this.open.get(session.id);
    this.open.delete(session.id);
    return transaction;
  }

  private write(
    session: SessionInfo,
    transaction: Transaction,
    result: 'accepted' | 'refused' | 'abandoned',
    extra: {
      queueId?: string;
      size?: number;
      stage?: string;
      error?: { code: number; enhanced?: string; text: string };
    },
  ): void {
    const reason = extra.error ? reasonOf(extra.error) : '';
    this.metrics.transactions.inc({ service: this.service, result, reason });
    if (result === 'accepted')
      this.metrics.tlsMessages.inc({ service: this.service, tls: session.tls ? 'yes' : 'no' });
    this.logger.info(
      {
        session: session.id,
        client: session.remoteAddress,
        helo: session.helo?.domain ?? null,
        user: session.user,
        tls: session.tls?.protocol ?? null,
        sender: transaction.sender,
        recipients: transaction.recipients,
        refusedRecipients:
          transaction.refusedRecipients.length > 0 ? transaction.refusedRecipients : undefined,
        result,
        queueId: extra.queueId,
        size: extra.size,
        stage: extra.stage,
        reply: extra.error
          ? `${extra.error.code} ${extra.error.enhanced ?? ''} ${extra.error.text}`.replace(/\s+/g, ' ')
          : undefined,
      },
      `transaction ${result}`,
    );
  }
}
