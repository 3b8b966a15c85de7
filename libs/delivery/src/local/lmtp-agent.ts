/**
 * Local delivery over LMTP (`LOCAL_DELIVERY=lmtp://host:port`, RFC 2033) to a mailbox server
 * such as Dovecot: LHLO, one transaction for all recipients, and after the final dot one reply
 * per accepted recipient (the SMTP client's LMTP mode). An unknown user is refused at RCPT
 * (5xx: failed); a full mailbox after the dot (4xx: deferred) affects only its recipient.
 *
 * The LMTP server is ours: when it cannot be reached or refuses the session, even with 5xx,
 * every recipient is deferred (our configuration or our server is at fault, not the message).
 */
import {
  SmtpClient,
  type DeliveryError,
  type Timeouts,
  type TlsPolicy,
  type TlsSettings,
  type TraceFn,
} from '@mta/smtp-client';
import { headerNeedsUtf8, openBody } from '../body';
import { allRecipients, type DeliveryAgent, type DeliveryReport, type DeliveryRequest } from '../contract';
import { SmtpConnectionPool } from '../remote/connection-pool';

export interface LmtpAgentOptions {
  readonly host: string;
  readonly port: number;
  /** Our name in LHLO (`MTA_HOSTNAME`). */
  readonly heloName: string;
  /** Default `none`: LMTP usually runs on loopback or a private network. */
  readonly tls?: TlsPolicy;
  readonly tlsSettings?: TlsSettings;
  readonly timeouts?: Partial<Timeouts>;
  /** Keep the session for the next delivery (default: a pool of its own); `false`: none. */
  readonly pool?: SmtpConnectionPool | false;
  readonly trace?: TraceFn;
}

export class LmtpDeliveryAgent implements DeliveryAgent {
  private readonly pool: SmtpConnectionPool | null;
  private readonly ownsPool: boolean;
  private readonly key: string;

  constructor(private readonly options: LmtpAgentOptions) {
    this.ownsPool = options.pool === undefined;
    this.pool = options.pool === false ? null : (options.pool ?? new SmtpConnectionPool());
    this.key = SmtpConnectionPool.key(`lmtp:${options.host}`, options.host, options.port);
  }

  async deliver(request: DeliveryRequest): Promise<DeliveryReport> {
    if (request.recipients.length === 0) throw new TypeError('a delivery needs at least one recipient');
    const remote = { host: this.options.host, port: this.options.port };
    let client = await this.pool?.take(this.key);
    if (!client) {
      const r = await SmtpClient.connect({
        host: this.options.host,
        port: this.options.port,
        heloName: this.options.heloName,
        protocol: 'lmtp',
        tls: this.options.tls ?? 'none',
        tlsSettings: this.options.tlsSettings,
        timeouts: this.options.timeouts,
        trace: this.options.trace,
      });
      if (!r.ok)
        return { status: 'attempted', results: allRecipients(request, unreachable(r.error, remote)) };
      client = r.client;
    }
    // RFC 6531 §3.4: a SMTPUTF8 message with an ASCII header goes to an LMTP server without
    // SMTPUTF8 (Dovecot 2.3) without the parameter.
    const utf8Headers = request.envelope.smtpUtf8 ? await headerNeedsUtf8(request.body) : undefined;
    const body = openBody(request.body);
    try {
      const { envelope } = request;
      const res = await client.send({
        from: envelope.sender,
        recipients: request.recipients.map((r) => ({ address: r.address, notify: r.notify, orcpt: r.orcpt })),
        body,
        size: request.size,
        eightBit: envelope.eightBitMime ? true : undefined,
        smtpUtf8: envelope.smtpUtf8,
        utf8Headers,
        dsn: envelope.dsn,
      });
      const address = client.remoteAddress;
      return {
        status: 'attempted',
        results: res.recipients.map((x, i) => ({
          recipientId: request.recipients[i].id,
          address: request.recipients[i].address,
          kind: x.kind,
          code: x.code,
          ...(x.enhanced ? { enhanced: x.enhanced } : {}),
          text: x.text,
          source: x.source,
          remote: { ...remote, address },
          tls: client?.tls ?? null,
        })),
      };
    } finally {
      body.destroy();
      if (this.pool && client.isUsable()) this.pool.release(this.key, client);
      else await client.quit();
    }
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool?.close();
  }
}

function unreachable(error: DeliveryError, remote: { host: string; port: number }) {
  return {
    kind: 'deferred' as const,
    code: error.code >= 500 ? 451 : error.code,
    enhanced: error.code >= 500 ? '4.3.0' : error.enhanced,
    text: error.code >= 500 ? `LMTP server refused the session: ${error.message}` : error.text,
    source: error.source,
    remote,
  };
}
