/**
 * The small async interface between the SMTP server and the services (mx, submission): the server
 * owns framing, sequence and limits; the handler owns policy and storage.
 *
 * Every hook may be synchronous or return a promise. To refuse, throw or return an `SmtpError`
 * (its reply goes to the client as is). Anything else thrown becomes 451 4.3.0 and its text is
 * never shown to the client (it goes to `onError`).
 */
import type { Readable } from 'node:stream';
import type {
  Address,
  HeloCommand,
  MailCommand,
  MailParams,
  RcptCommand,
  Recipient,
  SaslCredentials,
  SmtpError,
  SmtpReply,
} from '@mta/smtp-protocol';

export type Awaitable<T> = T | Promise<T>;

/** TLS facts of the connection, e.g. for the Received header (RFC 3848, RFC 8314). */
export interface TlsInfo {
  /** `TLSv1.3`, `TLSv1.2`... */
  readonly protocol: string;
  /** OpenSSL cipher name, e.g. `TLS_AES_256_GCM_SHA384`. */
  readonly cipher: string;
  /** IANA/RFC cipher name, when known. */
  readonly cipherStandardName?: string;
  /** Server name the client asked for (SNI), if any. */
  readonly servername?: string;
  /** How TLS started: STARTTLS (RFC 3207) or implicit TLS (RFC 8314). */
  readonly mode: 'starttls' | 'implicit';
}

/**
 * What the handler knows about a connection. A live view: `tls`, `helo`, `user` change as the
 * session goes on (RFC 3207 §4.2: STARTTLS forgets HELO and AUTH).
 */
export interface SessionInfo {
  /** Unique per process, for logs and queue ids. */
  readonly id: string;
  /** The client address: from the PROXY header when the listener trusts one, else the socket. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** The peer that actually connected (the load balancer) when a PROXY header was used. */
  readonly proxiedBy: { readonly address: string; readonly port: number } | null;
  /** Name of the listener that accepted the connection. */
  readonly listener: string;
  /** TLS facts once TLS is up, else null. */
  readonly tls: TlsInfo | null;
  /** The last HELO/EHLO. */
  readonly helo: { readonly verb: 'HELO' | 'EHLO'; readonly domain: string } | null;
  /** Authenticated identity (RFC 4954), or null. */
  readonly user: string | null;
  /**
   * The `with` protocol for the Received header: SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA (RFC 3848),
   * and UTF8SMTP, UTF8SMTPS, UTF8SMTPA, UTF8SMTPSA when the transaction uses SMTPUTF8 (RFC 6531 §3.7.3).
   */
  readonly protocol: string;
  /** Messages accepted (2yz at end of data) in this session so far. */
  readonly messages: number;
  /** Octets read from the client so far (after TLS decryption). */
  readonly bytesReceived: number;
}

/** The envelope handed to `onData` (RFC 5321 §2.3.1). */
export interface Envelope {
  /** Reverse-path; null for `<>`. */
  readonly mailFrom: Address | null;
  /**
   * MAIL parameters. `auth` (RFC 4954 §5) is only kept when the session is authenticated; from an
   * unauthenticated client it is treated as `<>` (null).
   */
  readonly mailParams: MailParams;
  readonly recipients: readonly Recipient[];
  /** DATA or BDAT (RFC 3030). */
  readonly transfer: 'data' | 'bdat';
  /** Same as `SessionInfo.protocol` at the time of the transaction. */
  readonly protocol: string;
}

/**
 * A hook's answer: nothing (accept with the standard reply), a positive `SmtpReply` to use instead,
 * or an `SmtpError` (refuse).
 */
export type HookResult = void | undefined | SmtpReply | SmtpError;

export interface SmtpHandler {
  /** A client connected (after the PROXY header). Refuse with an SmtpError (e.g. 554 5.7.1). */
  onConnect?(session: SessionInfo): Awaitable<HookResult>;
  /** HELO/EHLO, before the session applies it. */
  onHelo?(session: SessionInfo, helo: HeloCommand): Awaitable<HookResult>;
  /**
   * AUTH credentials (RFC 4954). Accept with `undefined`/`true` (identity = username) or with a
   * string (the identity); refuse with `false` (535 5.7.8) or an SmtpError.
   */
  onAuth?(session: SessionInfo, credentials: SaslCredentials): Awaitable<boolean | string | void | SmtpError>;
  /** MAIL FROM, after the session's own checks (sequence, SIZE, TLS/AUTH requirements). */
  onMailFrom?(session: SessionInfo, mail: MailCommand): Awaitable<HookResult>;
  /** RCPT TO, after the session's own checks (sequence, recipient limit). */
  onRcptTo?(session: SessionInfo, rcpt: RcptCommand): Awaitable<HookResult>;
  /**
   * The message body, dot-unstuffed (DATA) or reassembled (BDAT). `body` applies backpressure:
   * the server stops reading the socket while it is not being consumed. If the body turns out to
   * be invalid (too big, bare CR/LF, line too long) `body` is destroyed with that SmtpError and the
   * client gets that reply whatever this resolves to. If the client closes the connection or resets the
   * transaction mid-body, `body` is destroyed with a `TransferAbortedError`. Resolve with a queue id (→ `250 2.0.0 OK:
   * queued as <id>`), a positive reply, or nothing (`250 2.0.0 OK`).
   */
  onData?(session: SessionInfo, envelope: Envelope, body: Readable): Promise<string | HookResult>;
  /** The connection is gone (any reason). Not awaited. */
  onClose?(session: SessionInfo): void;
}
