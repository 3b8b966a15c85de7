/**
 * SmtpClient: one outbound SMTP session to one host, able to carry several messages.
 *
 *   const r = await SmtpClient.connect({ host: 'mx.example.org', address: '192.0.2.7', heloName: 'out.example.com' });
 *   if (!r.ok) → r.error says why (deferred or failed), try the next MX
 *   const res = await r.client.send({ from, recipients, body });   // per-recipient results
 *   if (r.client.isUsable()) pool it; before reuse: if (!(await client.reset())) discard it
 *   await r.client.quit();
 */
import type { EhloCapabilities, SmtpReply } from '@mta/smtp-protocol';
import type { AuthMechanism } from './auth';
import { Connection, type TraceFn } from './connection';
import { DeliveryError } from './errors';
import { handshake, type HandshakeOptions, type HandshakeProgress, type SessionInfo } from './handshake';
import { RecipientLedger } from './results';
import { resolveTimeouts, type Timeouts } from './timeouts';
import type { TlsFacts } from './tls-facts';
import { normaliseRecipients, runTransaction, type OutgoingMessage, type SendResult } from './transaction';

export interface ConnectOptions extends Omit<HandshakeOptions, 'tls'> {
  /** Where to connect, when it differs from `host` (an MX's resolved IPv4/IPv6 address). */
  readonly address?: string;
  /** Default 25. */
  readonly port?: number;
  /** Local source address (outbound IP). */
  readonly localAddress?: string;
  /** Address family for resolving `address`/`host` when it is a name. */
  readonly family?: 4 | 6;
  /** Default `opportunistic`. */
  readonly tls?: HandshakeOptions['tls'];
  readonly timeouts?: Partial<Timeouts>;
  /** BDAT chunk size in octets when the peer offers CHUNKING (default 1 MiB). */
  readonly bdatChunkSize?: number;
  /** Protocol trace for logs (credentials already redacted). */
  readonly trace?: TraceFn;
}

export type ConnectResult =
  | { readonly ok: true; readonly client: SmtpClient }
  /** The host cannot take mail now; `error.kind` is `deferred` or `failed` (5xx greeting/HELO). */
  | { readonly ok: false; readonly error: DeliveryError; readonly tls: TlsFacts | null };

export class SmtpClient {
  private busy = false;
  private closing: Promise<void> | null = null;
  private sent = 0;

  private constructor(
    private readonly conn: Connection,
    private readonly info: SessionInfo,
    private readonly timeouts: Timeouts,
    private readonly bdatChunkSize: number | undefined,
  ) {}

  /** Connect, read the greeting, EHLO/HELO, STARTTLS per policy, AUTH if configured. Never throws DeliveryError. */
  static async connect(options: ConnectOptions): Promise<ConnectResult> {
    const timeouts = resolveTimeouts(options.timeouts);
    let conn: Connection;
    try {
      conn = await Connection.open({
        host: options.address ?? options.host,
        port: options.port ?? 25,
        localAddress: options.localAddress,
        family: options.family,
        timeoutMs: timeouts.connect,
        trace: options.trace,
      });
    } catch (e) {
      if (e instanceof DeliveryError) return { ok: false, error: e, tls: null };
      throw e;
    }
    const progress: HandshakeProgress = { tls: null };
    try {
      const info = await handshake(
        conn,
        { ...options, tls: options.tls ?? 'opportunistic' },
        timeouts,
        progress,
      );
      return { ok: true, client: new SmtpClient(conn, info, timeouts, options.bdatChunkSize) };
    } catch (e) {
      // RFC 5321 §3.1: even after a 554 greeting the server waits for QUIT.
      await quitConnection(conn, timeouts);
      if (e instanceof DeliveryError) return { ok: false, error: e, tls: progress.tls };
      throw e;
    }
  }

  get greeting(): SmtpReply {
    return this.info.greeting;
  }
  /** Capabilities from the last EHLO (after STARTTLS, the post-TLS ones). */
  get capabilities(): EhloCapabilities {
    return this.info.capabilities;
  }
  /** `LHLO` in LMTP mode (`protocol: 'lmtp'`). */
  get helo(): 'EHLO' | 'HELO' | 'LHLO' {
    return this.info.helo;
  }
  /** TLS facts when the session is encrypted, else null. */
  get tls(): TlsFacts | null {
    return this.info.tls;
  }
  get authMechanism(): AuthMechanism | null {
    return this.info.authMechanism;
  }
  get remoteAddress(): string | undefined {
    return this.conn.remoteAddress;
  }
  get localAddress(): string | undefined {
    return this.conn.localAddress;
  }
  /** Messages attempted on this connection. */
  get messagesSent(): number {
    return this.sent;
  }

  /**
   * Open, idle, not told by the server that it is closing, and in step (no unsolicited
   * reply arrived while idle): fit for another message.
   */
  isUsable(): boolean {
    return !this.busy && this.closing === null && this.conn.isOpen() && this.conn.isInStep();
  }

  /**
   * Send one message. Resolves with one result per recipient; never rejects for SMTP or
   * network reasons (only for caller errors such as an empty recipient list).
   */
  async send(message: OutgoingMessage): Promise<SendResult> {
    if (this.busy) throw new Error('SmtpClient.send: a transaction is already in progress');
    if (!this.isUsable()) {
      const ledger = new RecipientLedger(normaliseRecipients(message.recipients).map((r) => r.address));
      const err =
        this.conn.error ?? DeliveryError.local('mail', '4.4.2', 'the connection is no longer usable');
      ledger.deferOpen(err);
      return { recipients: ledger.results(), message: null };
    }
    this.busy = true;
    this.sent++;
    try {
      return await runTransaction(
        {
          conn: this.conn,
          caps: this.info.capabilities,
          timeouts: this.timeouts,
          tlsActive: this.info.tls !== null,
          lmtp: this.info.helo === 'LHLO',
          bdatChunkSize: this.bdatChunkSize,
        },
        message,
      );
    } finally {
      this.busy = false;
      if (!this.conn.isOpen()) await this.close();
    }
  }

  /** RSET (RFC 5321 §4.1.1.5) before reusing a pooled connection. False: discard it (it is closed). */
  async reset(): Promise<boolean> {
    if (this.busy) throw new Error('SmtpClient.reset: a transaction is in progress');
    if (!this.isUsable()) {
      await this.close();
      return false;
    }
    this.busy = true;
    try {
      const reply = await this.conn.command('RSET', 'rset', this.timeouts.rset);
      if (reply.code === 250) return true;
      this.conn.fail(DeliveryError.refused('rset', reply, 'deferred'));
    } catch {
      /* connection failed; closed below */
    } finally {
      this.busy = false;
    }
    await this.close();
    return false;
  }

  /** QUIT (RFC 5321 §4.1.1.10) and close. Idempotent; resolves when the socket is closed. */
  quit(): Promise<void> {
    this.closing ??= quitConnection(this.conn, this.timeouts);
    return this.closing;
  }

  /** Close without QUIT. Idempotent; resolves when the socket is closed. */
  close(): Promise<void> {
    this.closing ??= this.conn.close(DeliveryError.local('quit', '4.4.2', 'connection closed by the client'));
    return this.closing;
  }
}

async function quitConnection(conn: Connection, t: Timeouts): Promise<void> {
  if (conn.isOpen()) {
    try {
      await conn.command('QUIT', 'quit', t.quit);
    } catch {
      /* a missing 221 changes nothing */
    }
  }
  await conn.close(DeliveryError.local('quit', '4.4.2', 'connection closed by the client'));
}
