/**
 * Per-recipient outcomes of one transaction. A recipient is pending (no RCPT reply yet),
 * accepted (RCPT 2xx, waiting for the end-of-data reply) or settled (final answer).
 *
 * The invariant the queue relies on: nobody is `delivered` until the server answered
 * 2xx to the end of data (RFC 5321 §4.1.1.4, §6.1 — only then has it taken
 * responsibility); a lost connection defers every recipient that was not settled.
 */
import { replyText, type SmtpReply } from '@mta/smtp-protocol';
import { DeliveryError, kindOfCode, type OutcomeKind, type ReplySource, type SessionStage } from './errors';

export interface RecipientResult {
  readonly recipient: string;
  readonly code: number;
  readonly enhanced: string | null;
  readonly text: string;
  readonly kind: OutcomeKind;
  /** `remote`: the peer said so; `local`: this client decided (timeout, lost connection, SIZE...). */
  readonly source: ReplySource;
  /** The command whose answer decided this outcome. */
  readonly stage: SessionStage;
}

/** The reply (or local verdict) that applies to the message as a whole. */
export interface MessageOutcome {
  readonly code: number;
  readonly enhanced: string | null;
  readonly text: string;
  readonly kind: OutcomeKind;
  readonly source: ReplySource;
  readonly stage: SessionStage;
}

export function outcomeOf(stage: SessionStage, answer: SmtpReply | DeliveryError): MessageOutcome {
  if (answer instanceof DeliveryError) {
    const { code, enhanced, text, kind, source } = answer;
    return { code, enhanced: enhanced ?? null, text, kind, source, stage: answer.stage };
  }
  return {
    code: answer.code,
    enhanced: answer.enhanced ?? null,
    text: replyText(answer),
    kind: kindOfCode(answer.code),
    source: 'remote',
    stage,
  };
}

type Entry =
  | { state: 'pending' }
  | { state: 'accepted'; reply: SmtpReply }
  | { state: 'settled'; outcome: MessageOutcome };

export class RecipientLedger {
  private readonly entries: Entry[];

  constructor(private readonly recipients: readonly string[]) {
    this.entries = recipients.map(() => ({ state: 'pending' }));
  }

  /** Record the RCPT reply: 2xx accepts, anything else settles that recipient. */
  rcptReply(index: number, reply: SmtpReply): void {
    this.entries[index] =
      reply.code >= 200 && reply.code < 300
        ? { state: 'accepted', reply }
        : { state: 'settled', outcome: outcomeOf('rcpt', reply) };
  }

  acceptedCount(): number {
    return this.entries.filter((e) => e.state === 'accepted').length;
  }

  /** LMTP (RFC 2033 §4.2): settle the first recipient still waiting for its end-of-data reply. */
  settleNextAccepted(outcome: MessageOutcome): void {
    const i = this.entries.findIndex((e) => e.state === 'accepted');
    if (i !== -1) this.entries[i] = { state: 'settled', outcome };
  }

  /** Settle every recipient not yet settled (MAIL refused, precheck, end of data...). */
  settleOpen(outcome: MessageOutcome): void {
    this.entries.forEach((e, i) => {
      if (e.state !== 'settled') this.entries[i] = { state: 'settled', outcome };
    });
  }

  /**
   * The connection failed (timeout, drop, 421): every unsettled recipient is deferred,
   * whatever the failure's own kind says, because the message was not confirmed.
   */
  deferOpen(err: DeliveryError): void {
    this.settleOpen({ ...outcomeOf(err.stage, err), kind: 'deferred' });
  }

  results(): RecipientResult[] {
    return this.entries.map((e, i) => {
      // Unsettled at the end can only be a bug; never report it as delivered.
      const outcome: MessageOutcome =
        e.state === 'settled'
          ? e.outcome
          : {
              code: 451,
              enhanced: '4.3.0',
              text: 'transaction did not complete',
              kind: 'deferred',
              source: 'local',
              stage: 'data',
            };
      const { code, enhanced, text, kind, source, stage } = outcome;
      return { recipient: this.recipients[i], code, enhanced, text, kind, source, stage };
    });
  }
}
