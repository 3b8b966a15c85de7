/**
 * Server and listener options, with the defaults in one place. Every limit is configurable and
 * answered with its standard reply (see README).
 */
import os from 'node:os';
import tls from 'node:tls';
import { BARE_NEWLINE_POLICIES, type BareNewlinePolicy, type ServerCapabilities } from '@mta/smtp-protocol';
import type { SessionInfo, SmtpHandler } from './handler';
import { renderWire, type Wire } from './server-replies';

/** The extensions that can be turned off (all on by default when applicable). */
export interface ExtensionToggles {
  readonly pipelining?: boolean;
  readonly eightBitMime?: boolean;
  readonly smtpUtf8?: boolean;
  readonly enhancedStatusCodes?: boolean;
  readonly dsn?: boolean;
  readonly chunking?: boolean;
  /**
   * REQUIRETLS (RFC 8689), advertised only over TLS. Off by default: an application that turns it
   * on must store the flag with the message and honour it on every hop (RFC 8689 §5), which needs
   * MTA-STS or DANE to validate the next hop (intake and delivery do). Off, the MAIL parameter is
   * refused like any unknown one (555 5.5.4).
   */
  readonly requireTls?: boolean;
}

export interface SmtpServerOptions {
  /** Our name in the greeting and EHLO reply. Default: `os.hostname()`. */
  readonly hostname?: string;
  /** Text after the hostname in the 220 greeting. Default `ESMTP ready`. */
  readonly greetingText?: string;
  readonly handler?: SmtpHandler;
  /** Key and certificate (PEM): enables STARTTLS (RFC 3207) and implicit-TLS listeners (RFC 8314). */
  readonly tls?: tls.SecureContextOptions;
  /** Offer STARTTLS on plain listeners when `tls` is set. Default true. */
  readonly startTls?: boolean;
  /** AUTH mechanisms. Default `['PLAIN', 'LOGIN']` when `handler.onAuth` exists, else none. */
  readonly authMechanisms?: readonly ('PLAIN' | 'LOGIN')[];
  /** Offer AUTH before TLS is up. Default false (RFC 4954 §4 and common sense: no cleartext passwords). */
  readonly authWithoutTls?: boolean;
  /** Refuse MAIL until TLS is up (530 5.7.0). Default false; per listener too. */
  readonly requireTls?: boolean;
  /** Refuse MAIL until authenticated (530 5.7.0). Default false; per listener too. */
  readonly requireAuth?: boolean;
  readonly extensions?: ExtensionToggles;
  /** Message size limit in octets, advertised as SIZE (RFC 1870); 0: no limit. Default 25 MiB. */
  readonly maxMessageSize?: number;
  /**
   * Octets a client may send past `maxMessageSize` before it is cut off: the body is read on that
   * far so that a client ignoring SIZE still reads our 552 5.3.4 at its end of data; past it the
   * client gets the 552 at once and the connection is closed (RFC 5321 §4.5.3.1.10; RFC 1870 §6
   * lets a server close a connection that goes on sending). Default 1 MiB.
   */
  readonly oversizeMargin?: number;
  /**
   * After a close we did not get QUIT for (421 and the like): how long the half-closed socket
   * waits for the client to close (ms), reading and dropping what it still sends, so that a
   * client still talking reads our last reply rather than a reset. Default 5000.
   */
  readonly lingerMs?: number;
  /** Command line limit in octets including CRLF (RFC 5321 §4.5.3.1.4: at least 512). Default 2048. */
  readonly maxCommandLineLength?: number;
  /** Text line limit in DATA, octets including CRLF (RFC 5321 §4.5.3.1.6: 1000); 0: none. Default 1000. */
  readonly maxDataLineLength?: number;
  /**
   * A bare LF in message content, DATA and BDAT alike (RFC 5321 §2.3.8): `reject` answers 550 5.5.2,
   * `normalize` (default, like Postfix 3.9's `smtpd_forbid_bare_newline = normalize`) stores it
   * as CRLF. DATA ends only at CRLF.CRLF either way; bare CR and NUL are always refused.
   */
  readonly bareNewline?: BareNewlinePolicy;
  /** Recipients per message (RFC 5321 §4.5.3.1.8: at least 100); then 452 4.5.3. Default 1000. */
  readonly maxRecipients?: number;
  /** Bad commands (syntax, sequence, failed AUTH) tolerated per session; one more: 421 4.7.0. Default 20. */
  readonly maxBadCommands?: number;
  /** Open connections in total; more: 421 4.3.2 at connect. Default 10000. */
  readonly maxConnections?: number;
  /**
   * Open connections per client IP (an IPv6 client: per /64, client-network.ts); more: 421 4.7.0
   * at connect. 0: unlimited. Default 50.
   */
  readonly maxConnectionsPerIp?: number;
  /**
   * A whole command line, ms (RFC 5321 §4.5.3.2.7: 5 minutes), counted from when we wait for it:
   * a deadline per record, as Postfix's `smtpd_per_record_deadline`, so a client sending a byte
   * now and then does not restart it. Then 421 4.4.2.
   */
  readonly idleTimeout?: number;
  /**
   * The data block timeout during DATA/BDAT, ms (RFC 5321 §4.5.3.2.5: 3 minutes), as a deadline
   * that each block extends by its size / `minDataRate` up to this much from now (Postfix's
   * `smtpd_min_data_rate`): a client slower than that rate runs out of time. Then 421 4.4.2.
   */
  readonly dataTimeout?: number;
  /** Octets per second that keep `dataTimeout` from running out; 0: any block restarts it. Default 500. */
  readonly minDataRate?: number;
  /** The whole body (from 354, or the first BDAT, to the end of data), ms; 0: none. Default 20 min. */
  readonly dataPhaseTimeout?: number;
  /** TLS handshake and PROXY header, ms. Default 30 s. */
  readonly handshakeTimeout?: number;
  /** Wait this long before the greeting; a client that talks first gets 554 5.5.1. Default 0. */
  readonly greetingDelay?: number;
  /** A handler hook that has not answered after this long gets 451 4.3.0 (454 4.7.0 for AUTH). Default 60 s; 0: wait forever. */
  readonly hookTimeout?: number;
  /** Graceful `close()`: how long sessions may finish before 421 4.3.2. Default 30 s. */
  readonly closeTimeout?: number;
  /** Errors the client never sees (handler exceptions, socket errors). */
  readonly onError?: (error: unknown, session: SessionInfo | null) => void;
}

export interface ListenerOptions {
  readonly port: number;
  /** Default `::` (all addresses). */
  readonly host?: string;
  /** Implicit TLS from the first byte (RFC 8314, port 465). Needs `tls`. */
  readonly implicitTls?: boolean;
  /** Expect a PROXY protocol v1/v2 header first and take the client address from it. */
  readonly proxyProtocol?: boolean;
  readonly requireTls?: boolean;
  readonly requireAuth?: boolean;
  /** For `SessionInfo.listener`; default `host:port`. */
  readonly name?: string;
  /** listen() backlog. */
  readonly backlog?: number;
}

/** The options with every default filled in. */
export interface ResolvedOptions {
  readonly hostname: string;
  readonly greetingText: string;
  readonly secureContext: tls.SecureContext | null;
  readonly capabilities: ServerCapabilities;
  readonly maxMessageSize: number;
  readonly oversizeMargin: number;
  readonly lingerMs: number;
  readonly maxCommandLineLength: number;
  readonly maxDataLineLength: number;
  readonly bareNewline: BareNewlinePolicy;
  readonly maxRecipients: number;
  readonly maxBadCommands: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  readonly idleTimeout: number;
  readonly dataTimeout: number;
  readonly minDataRate: number;
  readonly dataPhaseTimeout: number;
  readonly handshakeTimeout: number;
  readonly greetingDelay: number;
  readonly hookTimeout: number;
  readonly closeTimeout: number;
  readonly enhancedStatusCodes: boolean;
  /** Pre-rendered common replies. */
  readonly wire: Wire;
  readonly requireTls: boolean;
  readonly requireAuth: boolean;
  readonly handler: SmtpHandler;
  readonly onError: (error: unknown, session: SessionInfo | null) => void;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0)
    throw new RangeError(`SmtpServer: ${name} must be a number >= 0, got ${v}`);
  return v;
}

function bareNewlinePolicy(value: BareNewlinePolicy | undefined): BareNewlinePolicy {
  const v = value ?? 'normalize';
  if (!BARE_NEWLINE_POLICIES.includes(v))
    throw new RangeError(
      `SmtpServer: bareNewline must be one of ${BARE_NEWLINE_POLICIES.join(', ')}, got ${v}`,
    );
  return v;
}

export function resolveOptions(o: SmtpServerOptions): ResolvedOptions {
  const ext = o.extensions ?? {};
  const handler = o.handler ?? {};
  const secureContext = o.tls ? tls.createSecureContext(o.tls) : null;
  const maxMessageSize = nonNegative('maxMessageSize', o.maxMessageSize, 25 * 1024 * 1024);
  const maxCommandLineLength = nonNegative('maxCommandLineLength', o.maxCommandLineLength, 2048);
  if (maxCommandLineLength < 512)
    throw new RangeError('SmtpServer: maxCommandLineLength must be >= 512 (RFC 5321 §4.5.3.1.4)');
  const enhancedStatusCodes = ext.enhancedStatusCodes !== false;
  const capabilities: ServerCapabilities = {
    pipelining: ext.pipelining !== false,
    maxMessageSize,
    eightBitMime: ext.eightBitMime !== false,
    smtpUtf8: ext.smtpUtf8 !== false,
    enhancedStatusCodes,
    startTls: secureContext !== null && o.startTls !== false,
    authMechanisms: o.authMechanisms ?? (handler.onAuth ? ['PLAIN', 'LOGIN'] : []),
    authWithoutTls: o.authWithoutTls === true,
    dsn: ext.dsn !== false,
    chunking: ext.chunking !== false,
    // RFC 8689: opt-in only. Advertising it and then dropping the flag would promise TLS on
    // every hop and deliver in clear text; intake turns it on, and delivery validates the next
    // hop with MTA-STS (RFC 8461) or DANE (RFC 7672).
    requireTls: ext.requireTls === true && secureContext !== null,
  };
  const hostname = o.hostname ?? os.hostname();
  const greetingText = o.greetingText ?? 'ESMTP ready';
  return {
    hostname,
    greetingText,
    secureContext,
    capabilities,
    maxMessageSize,
    oversizeMargin: nonNegative('oversizeMargin', o.oversizeMargin, 1024 * 1024),
    lingerMs: nonNegative('lingerMs', o.lingerMs, 5_000),
    maxCommandLineLength,
    maxDataLineLength: nonNegative('maxDataLineLength', o.maxDataLineLength, 1000),
    bareNewline: bareNewlinePolicy(o.bareNewline),
    maxRecipients: nonNegative('maxRecipients', o.maxRecipients, 1000),
    maxBadCommands: nonNegative('maxBadCommands', o.maxBadCommands, 20),
    maxConnections: nonNegative('maxConnections', o.maxConnections, 10_000),
    maxConnectionsPerIp: nonNegative('maxConnectionsPerIp', o.maxConnectionsPerIp, 50),
    idleTimeout: nonNegative('idleTimeout', o.idleTimeout, 5 * 60_000),
    dataTimeout: nonNegative('dataTimeout', o.dataTimeout, 3 * 60_000),
    minDataRate: nonNegative('minDataRate', o.minDataRate, 500),
    dataPhaseTimeout: nonNegative('dataPhaseTimeout', o.dataPhaseTimeout, 20 * 60_000),
    handshakeTimeout: nonNegative('handshakeTimeout', o.handshakeTimeout, 30_000),
    greetingDelay: nonNegative('greetingDelay', o.greetingDelay, 0),
    hookTimeout: nonNegative('hookTimeout', o.hookTimeout, 60_000),
    closeTimeout: nonNegative('closeTimeout', o.closeTimeout, 30_000),
    enhancedStatusCodes,
    // Renders the greeting now: a hostname or text with CR, LF or controls throws RangeError here.
    wire: renderWire(enhancedStatusCodes, hostname, greetingText),
    requireTls: o.requireTls === true,
    requireAuth: o.requireAuth === true,
    handler,
    onError: o.onError ?? (() => undefined),
  };
}
