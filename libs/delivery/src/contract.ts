/**
 * The contract every delivery stage shares (remote SMTP, smart host, Maildir, LMTP): one
 * request for one delivery job, one report with one result per recipient. The idea follows
 * maddy's `module.DeliveryTarget` (a delivery has an envelope, recipients, a body that can be
 * read again, and per-recipient status), reduced to a single call because our queue hands
 * a whole job to one agent.
 */
import type { Readable } from 'node:stream';
import type { DsnNotify, TlsFacts } from '@mta/smtp-client';
import type { TlsPolicyLabel } from '@mta/tls-policy';
import type { Lease } from './limits/destination-limiter';

/**
 * The message content, headers and body, CRLF line endings, as stored (not dot-stuffed).
 * Each call must return a fresh source from the start: a retry to the next MX, or a second
 * Maildir recipient, reads the body again.
 */
export type BodySource = () => AsyncIterable<Buffer> | Readable;

export interface DeliveryEnvelope {
  /** MAIL FROM reverse-path without brackets; `''` for the null sender (bounces). */
  readonly sender: string;
  /** MAIL FROM ... SMTPUTF8 was given (RFC 6531). */
  readonly smtpUtf8?: boolean;
  /** MAIL FROM ... BODY=8BITMIME was given (RFC 6152). */
  readonly eightBitMime?: boolean;
  /**
   * MAIL FROM ... REQUIRETLS was given (RFC 8689): the message goes only over TLS that MTA-STS
   * or DANE validates, to a next hop that offers REQUIRETLS, with the parameter again.
   */
  readonly requireTls?: boolean;
  /** RFC 3461 §4.3 / §4.4, passed on when the next hop offers DSN. */
  readonly dsn?: { readonly ret?: 'FULL' | 'HDRS'; readonly envid?: string };
}

export interface DeliveryRecipient {
  /** The `recipients` row id, echoed in the result. */
  readonly id: string;
  /** RCPT TO forward-path without brackets. */
  readonly address: string;
  /** RFC 3461 §4.1 NOTIFY; absent or empty: not given. */
  readonly notify?: readonly DsnNotify[];
  /** RFC 3461 §4.2 original recipient, the plain address (xtext-decoded). */
  readonly orcpt?: string;
}

export interface DeliveryRequest {
  /** `messages.id`. */
  readonly messageId: string;
  /** The job's destination: the recipient domain for remote delivery (all recipients share it). */
  readonly destination?: string;
  readonly envelope: DeliveryEnvelope;
  /** At least one. */
  readonly recipients: readonly DeliveryRecipient[];
  readonly body: BodySource;
  /** Size in octets (`messages.size`), used for SIZE (RFC 1870). */
  readonly size?: number;
  /**
   * The inbound policy quarantined the message (DMARC p=quarantine, `messages.quarantine`):
   * Maildir delivery files it in the mailbox's Junk folder; over LMTP its `X-Spam: Yes` field
   * is what the server's filters (Sieve) see.
   */
  readonly quarantine?: boolean;
  /** Stops the delivery early (worker shutdown); unsettled recipients are deferred. */
  readonly signal?: AbortSignal;
  /**
   * The destination's connection slot this delivery holds (limits/limited-agent.ts): a session
   * kept open after the delivery takes a slot with `idle()`; its `destination` is the key the
   * shaping applies to (the domain, or the MX host set). Absent: no connection limit.
   */
  readonly slot?: Pick<Lease, 'idle' | 'destination'>;
}

/** What the queue does with the recipient (DESIGN.md "A message's life", step 4). */
export type DeliveryKind = 'delivered' | 'deferred' | 'failed';

export interface RecipientDelivery {
  readonly recipientId: string;
  readonly address: string;
  readonly kind: DeliveryKind;
  /** The reply code (RFC 5321 §4.2), remote or decided locally. */
  readonly code: number;
  /** RFC 3463 enhanced status code, when there is one. */
  readonly enhanced?: string;
  /** One line, for the event log and the DSN. */
  readonly text: string;
  /** `remote`: the next hop said so; `local`: we decided (DNS, timeout, connection, disk...). */
  readonly source: 'remote' | 'local';
  /** The host that answered (MX name, smart host, LMTP server, or `maildir`), and its address. */
  readonly remote?: { readonly host: string; readonly address?: string; readonly port?: number };
  /** TLS facts of the session that gave the answer; null or absent: no TLS. */
  readonly tls?: TlsFacts | null;
  /**
   * Remote delivery: the TLS policy the attempt was made under (`opportunistic`, `mta-sts`,
   * `mta-sts-testing`, `dane`). Absent for local delivery.
   */
  readonly tlsPolicy?: TlsPolicyLabel;
  /**
   * Remote delivery: the next hop offered DSN (RFC 3461), so NOTIFY/ORCPT went on with the
   * recipient. Absent for local delivery (Maildir, LMTP): that is final delivery.
   */
  readonly nextHopDsn?: boolean;
}

/**
 * - `attempted`: the results are outcomes for the `outcome` job (one per recipient, in order).
 * - `deferred-local`: nothing was tried because the destination's traffic shaping said not now
 *   (no connection slot free, or its message rate spent; `limit` says which). The worker should run the same job again after `retryAfterMs`
 *   (e.g. BullMQ `moveToDelayed`), without an outcome and without counting an attempt. The
 *   results say `deferred 451 4.4.5` in case a caller reports them anyway.
 */
export type DeliveryStatus = 'attempted' | 'deferred-local';

export interface DeliveryReport {
  readonly status: DeliveryStatus;
  readonly results: readonly RecipientDelivery[];
  /** With `deferred-local`: when to try again. */
  readonly retryAfterMs?: number;
  /**
   * With `deferred-local`: the traffic shaping limit that put it off (limits/shaping.ts):
   * `connections` (no free slot), `rate` (the message rate spent), `unavailable` (Redis away).
   */
  readonly limit?: ShapingLimit;
}

export type ShapingLimit = 'connections' | 'rate' | 'unavailable';

/** One delivery stage. `deliver` never rejects for delivery trouble; it reports it. */
export interface DeliveryAgent {
  deliver(request: DeliveryRequest): Promise<DeliveryReport>;
  /** Closes pooled connections and timers. */
  close(): Promise<void>;
}

/** The same verdict for every recipient (DNS failure, no slot, a whole-message refusal...). */
export function allRecipients(
  request: Pick<DeliveryRequest, 'recipients'>,
  verdict: Omit<RecipientDelivery, 'recipientId' | 'address'>,
): RecipientDelivery[] {
  return request.recipients.map((r) => ({ recipientId: r.id, address: r.address, ...verdict }));
}

/** 2xx delivered, 4xx deferred, 5xx failed. */
export function kindOf(code: number): DeliveryKind {
  if (code >= 200 && code < 300) return 'delivered';
  return code >= 500 ? 'failed' : 'deferred';
}
