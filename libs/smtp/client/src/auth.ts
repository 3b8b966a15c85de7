/**
 * SMTP AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN (draft-murchison-sasl-login),
 * for relaying through a smart host.
 *
 * The password never leaves this file except base64-encoded on the wire: traces show
 * the command with the response replaced by `***`, and errors carry only the server's
 * reply. An authentication failure is *deferred*, not failed: it is our configuration
 * that is wrong, not the message (Postfix's smtp_sasl_auth_soft_bounce = yes).
 */
import type { Connection } from './connection';
import { DeliveryError } from './errors';

export type AuthMechanism = 'PLAIN' | 'LOGIN';

export interface AuthCredentials {
  readonly username: string;
  readonly password: string;
  /** Mechanisms we may use, in order of preference. Default: PLAIN, LOGIN. */
  readonly mechanisms?: readonly AuthMechanism[];
}

const REDACTED = '***';

export function chooseMechanism(
  offered: readonly string[],
  wanted: readonly AuthMechanism[],
): AuthMechanism | null {
  return wanted.find((m) => offered.includes(m)) ?? null;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** Run the exchange; resolves with the mechanism used, rejects with a deferred DeliveryError. */
export async function authenticate(
  conn: Connection,
  offered: readonly string[],
  creds: AuthCredentials,
  timeoutMs: number,
): Promise<AuthMechanism> {
  const mechanism = chooseMechanism(offered, creds.mechanisms ?? ['PLAIN', 'LOGIN']);
  if (!mechanism) {
    // RFC 3463 X.7.4 "Security features not supported"
    throw DeliveryError.local(
      'auth',
      '4.7.4',
      `server offers no usable AUTH mechanism (offered: ${offered.join(' ') || 'none'})`,
    );
  }
  const final =
    mechanism === 'PLAIN'
      ? // RFC 4616 §2: [authzid] NUL authcid NUL passwd, sent as initial response (RFC 4954 §4)
        await conn.command(
          `AUTH PLAIN ${b64(`\0${creds.username}\0${creds.password}`)}`,
          'auth',
          timeoutMs,
          `AUTH PLAIN ${REDACTED}`,
        )
      : await login(conn, creds, timeoutMs);
  if (final.code === 235) return mechanism; // RFC 4954 §6
  if (final.code === 334) {
    // The server wants more than the mechanism defines: cancel (RFC 4954 §4).
    const cancelled = await conn.command('*', 'auth', timeoutMs);
    throw DeliveryError.refused('auth', cancelled.code >= 400 ? cancelled : final, 'deferred');
  }
  throw DeliveryError.refused('auth', final, 'deferred');
}

async function login(conn: Connection, creds: AuthCredentials, timeoutMs: number) {
  const first = await conn.command('AUTH LOGIN', 'auth', timeoutMs);
  if (first.code !== 334) return first;
  const second = await conn.command(b64(creds.username), 'auth', timeoutMs, REDACTED);
  if (second.code !== 334) return second;
  return conn.command(b64(creds.password), 'auth', timeoutMs, REDACTED);
}
