/**
 * AUTH (RFC 4954 §4): run the SASL mechanism over the following lines, then ask `onAuth`.
 * A failed or cancelled exchange counts as a bad command (brute-force guard).
 */
import {
  createSaslMechanism,
  Replies,
  SmtpError,
  type AuthCommand,
  type SaslMechanism,
  type SaslStep,
} from '@mta/smtp-protocol';
import type { Connection } from '../connection';
import { Mode } from '../mode';
import { TOO_LONG } from '../line-reader';
import { ServerReplies } from '../server-replies';

export function auth(conn: Connection, cmd: AuthCommand): void {
  const mechanism = createSaslMechanism(cmd.mechanism);
  if (mechanism === null) return conn.refuse(Replies.unknownAuthMechanism());
  conn.session.apply(cmd);
  step(conn, mechanism, mechanism.start(cmd.initialResponse));
}

/** A client line during the exchange (or TOO_LONG: RFC 4954 §4, 12288 octets). */
export function saslLine(conn: Connection, line: Buffer | typeof TOO_LONG): void {
  const mechanism = conn.sasl;
  if (mechanism === null) return;
  if (line === TOO_LONG) return step(conn, mechanism, { type: 'error', error: Replies.authLineTooLong() });
  step(conn, mechanism, mechanism.next(line.toString('latin1')));
}

function step(conn: Connection, mechanism: SaslMechanism, s: SaslStep): void {
  if (s.type === 'challenge') {
    conn.sasl = mechanism;
    conn.mode = Mode.Sasl;
    return conn.send(s.reply);
  }
  conn.sasl = null;
  conn.mode = Mode.Command;
  if (s.type === 'error') {
    conn.session.authEnded();
    return conn.refuse(s.error);
  }
  const credentials = s.credentials;
  const onAuth = conn.handler.onAuth;
  if (!onAuth) {
    conn.session.authEnded();
    return conn.refuse(Replies.authFailed());
  }
  conn.hook(
    () => onAuth.call(conn.handler, conn.info, credentials),
    (r) => {
      if (r instanceof SmtpError || r === false) {
        conn.session.authEnded();
        return conn.refuse(r === false ? Replies.authFailed() : r);
      }
      conn.session.authSucceeded(typeof r === 'string' ? r : credentials.username);
      conn.send(conn.options.wire.authSucceeded);
    },
    true,
    // RFC 4954 §6: 454 4.7.0 when the credentials cannot be checked right now.
    ServerReplies.authTemporaryFailure,
  );
}
