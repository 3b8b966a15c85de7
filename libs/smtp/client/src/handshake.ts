/**
 * Session setup: greeting → EHLO (HELO fallback) → STARTTLS → EHLO again → AUTH.
 * In LMTP mode (RFC 2033 §4.1) LHLO replaces EHLO, and there is no HELO fallback.
 * Each step either advances or throws an DeliveryError that says why this host cannot
 * take mail now; the caller then moves on to the next MX (RFC 5321 §5.1).
 */
import type { ConnectionOptions } from 'node:tls';
import net from 'node:net';
import {
  parseCapabilityLines,
  parseEhloReply,
  type EhloCapabilities,
  type SmtpReply,
} from '@mta/smtp-protocol';
import { authenticate, type AuthCredentials, type AuthMechanism } from './auth';
import type { Connection } from './connection';
import { DeliveryError } from './errors';
import type { Timeouts } from './timeouts';
import type { TlsFacts } from './tls-facts';

/**
 * - `none`: never STARTTLS.
 * - `opportunistic`: STARTTLS when offered, certificate not verified; a failed handshake is a
 *   temporary failure for this host (no silent plaintext retry). A STARTTLS command refused
 *   with a reply (e.g. 454, RFC 3207 §4) continues in plaintext: no handshake was attempted.
 * - `required`: TLS or no delivery (deferred), certificate not verified.
 * - `required-verify`: TLS with the chain verified and the name matched against `host`.
 */
export type TlsPolicy = 'none' | 'opportunistic' | 'required' | 'required-verify';

/** Extra TLS settings (trust anchors, minimum version...). Name and verification come from the policy. */
export type TlsSettings = Omit<
  ConnectionOptions,
  'socket' | 'servername' | 'rejectUnauthorized' | 'host' | 'port'
>;

export interface HandshakeOptions {
  /** The server's name: SNI and certificate name check. */
  readonly host: string;
  /** Our name for EHLO/HELO (RFC 5321 §4.1.1.1: FQDN or address literal). */
  readonly heloName: string;
  readonly tls: TlsPolicy;
  readonly tlsSettings?: TlsSettings;
  /**
   * Authenticate the server by something other than the WebPKI (DANE, RFC 7672): called with
   * the presented chain (DER, the server's own certificate first) right after the handshake,
   * before anything else is said; null accepts it (the facts then say `authorized`), a text
   * refuses it (deferred, 4.7.5). With it, the chain is not checked against CAs.
   */
  readonly verifyPeer?: (chain: readonly Buffer[]) => string | null;
  readonly auth?: AuthCredentials;
  /** Send credentials over a plaintext session. Off by default; only for tests or loopback relays. */
  readonly allowInsecureAuth?: boolean;
  /**
   * `smtp` (default) or `lmtp` (RFC 2033): LHLO instead of EHLO, and after the end of data one
   * reply per accepted recipient instead of one for the message.
   */
  readonly protocol?: 'smtp' | 'lmtp';
}

export interface SessionInfo {
  readonly greeting: SmtpReply;
  readonly helo: 'EHLO' | 'HELO' | 'LHLO';
  readonly capabilities: EhloCapabilities;
  readonly tls: TlsFacts | null;
  readonly authMechanism: AuthMechanism | null;
}

/** Partial state, readable by the caller when the handshake throws. */
export interface HandshakeProgress {
  tls: TlsFacts | null;
}

export async function handshake(
  conn: Connection,
  o: HandshakeOptions,
  t: Timeouts,
  progress: HandshakeProgress,
): Promise<SessionInfo> {
  // RFC 5321 §3.1 / §4.3.2: 220 opens the session; 554 (or 4xx) refuses it.
  const greeting = await conn.read('greeting', t.greeting);
  if (greeting.code !== 220) throw DeliveryError.refused('greeting', greeting);

  const lmtp = o.protocol === 'lmtp';
  let { helo, capabilities } = await sayHello(conn, o.heloName, t, lmtp);
  let tls: TlsFacts | null = null;
  if (await wantsTls(conn, o.tls, capabilities, t)) {
    const servername = net.isIP(o.host) ? null : o.host; // RFC 6066 §3: no IP literals in SNI
    tls = await conn.startTls(
      { ...o.tlsSettings, host: o.host, rejectUnauthorized: o.tls === 'required-verify' && !o.verifyPeer },
      servername,
      t.starttls,
    );
    progress.tls = tls;
    if (o.verifyPeer) tls = progress.tls = verified(conn, tls, o.verifyPeer);
    // RFC 3207 §4.2: forget everything learnt before TLS and say EHLO again.
    ({ helo, capabilities } = await sayHello(conn, o.heloName, t, lmtp));
  }

  let authMechanism: AuthMechanism | null = null;
  if (o.auth) {
    if (!tls && !o.allowInsecureAuth) {
      throw DeliveryError.local(
        'auth',
        '4.7.0',
        'refusing to send credentials over a connection without TLS',
      );
    }
    authMechanism = await authenticate(conn, capabilities.auth, o.auth, t.auth);
  }
  return { greeting, helo, capabilities, tls, authMechanism };
}

/** The caller's verdict on the presented chain (DANE); a refusal ends the session. */
function verified(
  conn: Connection,
  tls: TlsFacts,
  verify: (chain: readonly Buffer[]) => string | null,
): TlsFacts {
  const why = verify(tls.peerChain ?? []);
  if (why !== null) {
    throw conn.fail(DeliveryError.local('starttls', '4.7.5', `TLS authentication failed: ${why}`));
  }
  return { ...tls, authorized: true, authorizationError: null };
}

/**
 * EHLO, and HELO when EHLO is refused with 5xx (RFC 5321 §4.1.4, §3.2). LMTP: LHLO only,
 * since an LMTP server must support it and HELO/EHLO are not LMTP (RFC 2033 §4.1).
 */
async function sayHello(
  conn: Connection,
  name: string,
  t: Timeouts,
  lmtp: boolean,
): Promise<{ helo: 'EHLO' | 'HELO' | 'LHLO'; capabilities: EhloCapabilities }> {
  if (lmtp) {
    const lhlo = await conn.command(`LHLO ${name}`, 'helo', t.helo);
    if (lhlo.code !== 250) throw DeliveryError.refused('helo', lhlo);
    return { helo: 'LHLO', capabilities: parseEhloReply(lhlo) };
  }
  const ehlo = await conn.command(`EHLO ${name}`, 'helo', t.helo);
  if (ehlo.code === 250) return { helo: 'EHLO', capabilities: parseEhloReply(ehlo) };
  if (ehlo.code < 500) throw DeliveryError.refused('helo', ehlo);
  const heloReply = await conn.command(`HELO ${name}`, 'helo', t.helo);
  if (heloReply.code !== 250) throw DeliveryError.refused('helo', heloReply);
  return { helo: 'HELO', capabilities: parseCapabilityLines([]) }; // RFC 821 server: no extensions
}

/** Decide and request STARTTLS; true when the server said 220 and a handshake should follow. */
async function wantsTls(
  conn: Connection,
  policy: TlsPolicy,
  caps: EhloCapabilities,
  t: Timeouts,
): Promise<boolean> {
  if (policy === 'none') return false;
  const required = policy !== 'opportunistic';
  if (!caps.startTls) {
    if (!required) return false;
    // RFC 3463 X.7.4 "Security features not supported"; Postfix defers likewise.
    throw DeliveryError.local('starttls', '4.7.4', 'TLS is required, but was not offered by the server');
  }
  const reply = await conn.command('STARTTLS', 'starttls', t.starttls);
  if (reply.code === 220) return true; // RFC 3207 §4
  if (required) throw DeliveryError.refused('starttls', reply, 'deferred');
  return false;
}
