/**
 * The inbound authentication of `mx` (RFC 7208 SPF, RFC 6376/8463 DKIM, RFC 8617 ARC,
 * RFC 7489 DMARC, RFC 8601 Authentication-Results) wired to the SMTP transaction:
 *
 * - MAIL FROM starts the SPF checks of the MAIL FROM and HELO identities; nothing waits for them
 *   there (SPF alone refuses nothing), the result is awaited at the end of data for DMARC.
 * - DATA: the message as received streams through `MessageAuthenticator` (DKIM, ARC, DMARC) as
 *   it is stored, never held a second time.
 * - End of data: the decision: 550 5.7.1 (p=reject), 451 4.7.0 (a DNS error may hide a pass),
 *   or stored with our Authentication-Results on top, and for p=quarantine `X-Spam: Yes` and the
 *   `quarantine` flag (local delivery files it in the Junk folder).
 *
 * The checks live in @mta/policy as plain functions; this is only their place in the session.
 */
import type { HeaderField } from '@mta/mail';
import {
  authenticationResultsValue,
  checkSpf,
  claimsAuthservId,
  createInboundResolver,
  decide,
  formatAuthenticationResults,
  MessageAuthenticator,
  type SealingKey,
  type SpfVerdict,
  type StoredAuthResults,
} from '@mta/policy';
import { SmtpError } from '@mta/smtp-protocol';

export interface InboundChecksOptions {
  /** `POLICY_INBOUND_CHECKS`: false leaves only the removal of forged Authentication-Results. */
  enabled: boolean;
  /** `MTA_HOSTNAME`: our authserv-id (RFC 8601 §2.5) */
  authservId: string;
  /** `ARC_TRUSTED_SEALERS` */
  trustedSealers: readonly string[];
  /** `DNS_SERVERS` */
  dnsServers: readonly { host: string; port: number }[];
  /** `POLICY_DNS_TIMEOUT_MS` */
  dnsTimeoutMs: number;
  /**
   * Our ARC key (RFC 8617 §5.1) for mail we pass on (relay domains): the RSA DKIM key of
   * `MTA_HOSTNAME`'s domain; null: not sealed.
   */
  sealingKey?: () => Promise<SealingKey | null>;
  /** A seal could not be made (the message goes on unsealed). */
  onSealError?: (error: string) => void;
  /** Every decision, for the metrics: the DMARC result (`none` without one) and the action. */
  onDecision?: (dmarc: string, action: string) => void;
}

/** What the end of data adds to a message that is accepted. */
export interface InboundOutcome {
  /** CRLF-terminated fields for the top of the message: Authentication-Results (and X-Spam). */
  fields: string[];
  results: StoredAuthResults;
  quarantine: boolean;
}

/** One message's checks, between DATA and the end of data. */
export interface InboundMessage {
  write(chunk: Buffer): Promise<void>;
  /** The outcome, or an SmtpError (550 / 451) that refuses the message. */
  finish(enforce: boolean): Promise<InboundOutcome>;
  abort(): void;
}

export class InboundChecks {
  private readonly resolver: ReturnType<typeof createInboundResolver> | null;
  /** The SPF verdict of each session's current transaction, by session id. */
  private readonly spf = new Map<string, { sender: string; verdict: Promise<SpfVerdict> }>();

  constructor(private readonly options: InboundChecksOptions) {
    this.resolver = options.enabled
      ? createInboundResolver({ servers: options.dnsServers, timeoutMs: options.dnsTimeoutMs, tries: 2 })
      : null;
  }

  /** RFC 8601 §5: an incoming Authentication-Results that claims our authserv-id is forged. */
  readonly isForgedAuthResults = (field: HeaderField): boolean =>
    field.key === 'authentication-results' && claimsAuthservId(field.value, this.options.authservId);

  /** MAIL FROM: starts SPF for the transaction (RFC 7208 §2.3, §2.4). */
  mailFrom(sessionId: string, facts: { clientIp: string; helo: string | null; sender: string }): void {
    if (!this.resolver) return;
    const verdict = checkSpf(facts, { resolver: this.resolver, hostname: this.options.authservId });
    verdict.catch(() => undefined); // awaited at the end of data; a session may end before
    this.spf.set(sessionId, { sender: facts.sender, verdict });
  }

  /**
   * DATA: the message's checks; null when they are off or MAIL FROM was not seen. `relayed`:
   * the message goes on to another server (a relay domain), so it is ARC-sealed too.
   */
  async message(sessionId: string, relayed: boolean): Promise<InboundMessage | null> {
    const spf = this.spf.get(sessionId);
    this.spf.delete(sessionId);
    if (!this.resolver || !spf) return null;
    const seal = relayed && this.options.sealingKey ? await this.options.sealingKey() : null;
    const auth = new MessageAuthenticator({
      resolver: this.resolver,
      sender: spf.sender,
      seal: seal ?? undefined,
    });
    return {
      write: (chunk) => auth.write(chunk),
      abort: () => auth.abort(),
      finish: async (enforce) => {
        const verdict = await auth.finish(await spf.verdict);
        const decision = decide(verdict, { enforce, trustedSealers: this.options.trustedSealers });
        this.options.onDecision?.(verdict.dmarc?.result ?? 'none', decision.action);
        if (decision.reply)
          throw new SmtpError(decision.reply.code, decision.reply.enhanced, decision.reply.text);
        const quarantine = decision.action === 'quarantine';
        const sealed = await auth.seal(
          authenticationResultsValue(this.options.authservId, verdict, decision),
        );
        if (sealed.error) this.options.onSealError?.(sealed.error);
        // The ARC set goes on top (RFC 8617 §5.1), then our Authentication-Results.
        const fields = [
          ...sealed.fields,
          formatAuthenticationResults(this.options.authservId, verdict, decision),
        ];
        // `X-Spam: Yes` is what rspamd and SpamAssassin-style filters write and what Sieve
        // rules on the LMTP side (Dovecot: `if header :is "X-Spam" "Yes" { fileinto "Junk"; }`)
        // commonly test, so quarantined mail lands in Junk there too; Maildir delivery uses the
        // message's `quarantine` flag instead.
        if (quarantine) fields.push('X-Spam: Yes\r\n');
        return { fields, results: { ...verdict, decision }, quarantine };
      },
    };
  }

  /** The session ended or a new transaction began. */
  forget(sessionId: string): void {
    this.spf.delete(sessionId);
  }
}
