import { encodeXtext, SmtpError } from '@mta/smtp-protocol';
import type { Envelope } from '@mta/smtp-server';
import type { IncomingMessage } from './incoming-message';
import type { ResolvedRecipient } from './recipient-resolver';

/** A recipient as stored, and whether it is forwarded (reached through an alias or SRS, not ours). */
export type EnvelopeRecipient = IncomingMessage['recipients'][number] & { forwarded: boolean };

/** A message whose recipients say which are forwarded (before forwarding.ts splits them off). */
export type ExpandedMessage = Omit<IncomingMessage, 'recipients'> & { recipients: EnvelopeRecipient[] };

/**
 * The recipients accepted in one transaction: what each RCPT resolved to (an alias: its
 * expansion), with the limit on recipients applied to what is delivered, not to what was asked
 * (RFC 5321 §4.5.3.1.8; `MAX_RECIPIENTS`): one RCPT whose expansion would pass it gets
 * 452 4.5.3 (§4.5.3.1.10), so the client sends the rest in another transaction.
 */
export class TransactionRecipients {
  private readonly byRcpt = new Map<string, ResolvedRecipient[]>();
  private readonly distinct = new Set<string>();

  constructor(private readonly maxRecipients: number) {}

  add(rcpt: string, resolved: readonly ResolvedRecipient[]): void {
    const fresh = new Set(resolved.map(keyOf).filter((k) => !this.distinct.has(k)));
    if (this.distinct.size + fresh.size > this.maxRecipients)
      throw new SmtpError(452, '4.5.3', 'Too many recipients');
    for (const k of fresh) this.distinct.add(k);
    this.byRcpt.set(rcpt, [...resolved]);
  }

  /** Every recipient accepted so far (the expansions of aliases included). */
  values(): ResolvedRecipient[] {
    return [...this.byRcpt.values()].flat();
  }

  /**
   * The envelope's recipients as stored, each once (the first wins: an account named directly
   * and through an alias gets one copy). A recipient reached through an alias or SRS address
   * keeps that address as its ORCPT (RFC 3461 §4.2) unless the client gave one, and inherits
   * the NOTIFY of the RCPT that named it (RFC 3461 §5.2.7: an alias passes the DSN request on).
   */
  forStore(recipients: Envelope['recipients']): EnvelopeRecipient[] {
    const out = new Map<string, EnvelopeRecipient>();
    for (const r of recipients) {
      const resolved = this.byRcpt.get(r.address.raw);
      if (!resolved) throw new Error(`recipient ${r.address.raw} was not resolved at RCPT`);
      for (const { via, ...route } of resolved) {
        const key = keyOf(route);
        if (out.has(key)) continue;
        const given = r.params.orcpt ? `${r.params.orcpt.type};${r.params.orcpt.address}` : null;
        out.set(key, {
          ...route,
          notify: [...(r.params.notify ?? [])],
          orcpt: given ?? (via ? `rfc822;${encodeXtext(via)}` : null),
          forwarded: via !== undefined && route.route !== 'local',
        });
      }
    }
    return [...out.values()];
  }
}

/** Our mailboxes are one whatever the case of the local part; other addresses are kept apart. */
function keyOf(r: Pick<ResolvedRecipient, 'address' | 'route'>): string {
  return r.route === 'local' ? r.address.toLowerCase() : r.address;
}
