/**
 * The live `SessionInfo` a connection shares with its handler, and the RFC 3848 / RFC 6531
 * `with` protocol name for the Received header.
 */
import { randomBytes } from 'node:crypto';
import type tls from 'node:tls';
import type { SmtpSession } from '@mta/smtp-protocol';
import type { SessionInfo, TlsInfo } from './handler';

const PREFIX = randomBytes(3).toString('hex');
let counter = 0;

/** A short id unique in this process (and most likely across restarts). */
export function nextSessionId(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${PREFIX}${counter.toString(36).padStart(6, '0')}`;
}

/**
 * RFC 3848 §2 (and RFC 6531 §3.7.3 for SMTPUTF8): SMTP/ESMTP, then S with TLS and A when
 * authenticated; UTF8SMTP* replaces ESMTP* when the transaction uses SMTPUTF8.
 */
export function withProtocol(session: SmtpSession): string {
  const g = session.greeting;
  if (g === null || g.verb === 'HELO') return 'SMTP';
  const utf8 = session.transaction?.params.smtpUtf8 === true;
  const s = session.tls ? 'S' : '';
  const a = session.user !== null ? 'A' : '';
  return `${utf8 ? 'UTF8SMTP' : 'ESMTP'}${s}${a}`;
}

export function tlsInfoOf(socket: tls.TLSSocket, mode: TlsInfo['mode']): TlsInfo {
  const cipher = socket.getCipher();
  const servername = (socket as tls.TLSSocket & { servername?: string | false }).servername;
  return {
    protocol: socket.getProtocol() ?? 'unknown',
    cipher: cipher?.name ?? 'unknown',
    ...(cipher?.standardName ? { cipherStandardName: cipher.standardName } : {}),
    ...(servername ? { servername } : {}),
    mode,
  };
}

export class LiveSessionInfo implements SessionInfo {
  readonly id = nextSessionId();
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  proxiedBy: { address: string; port: number } | null = null;
  tls: TlsInfo | null = null;
  messages = 0;
  bytesReceived = 0;
  session: SmtpSession | null = null;

  constructor(
    readonly listener: string,
    socket: { remoteAddress?: string; remotePort?: number; localAddress?: string; localPort?: number },
  ) {
    this.remoteAddress = normaliseAddress(socket.remoteAddress ?? '');
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = normaliseAddress(socket.localAddress ?? '');
    this.localPort = socket.localPort ?? 0;
  }

  get helo(): SessionInfo['helo'] {
    return this.session?.greeting ?? null;
  }

  get user(): string | null {
    return this.session?.user ?? null;
  }

  get protocol(): string {
    return this.session ? withProtocol(this.session) : 'SMTP';
  }
}

/** `::ffff:1.2.3.4` (IPv4 on a dual-stack socket) is reported as `1.2.3.4`. */
export function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
