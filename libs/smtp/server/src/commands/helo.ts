/** HELO and EHLO (RFC 5321 §4.1.1.1): greet, reset the transaction, advertise the extensions. */
import { ehloReply, replyToBuffer, type HeloCommand } from '@mta/smtp-protocol';
import type { Connection } from '../connection';
import { refusal } from './refusal';

export function helo(conn: Connection, cmd: HeloCommand): void {
  const onHelo = conn.handler.onHelo;
  if (!onHelo) return greet(conn, cmd);
  conn.hook(
    () => onHelo.call(conn.handler, conn.info, cmd),
    (r) => {
      const refused = refusal(r);
      if (refused) return conn.send(refused);
      greet(conn, cmd);
    },
  );
}

function greet(conn: Connection, cmd: HeloCommand): void {
  const session = conn.session;
  session.apply(cmd);
  const hostname = conn.options.hostname;
  if (cmd.verb === 'HELO') return conn.send(conn.options.wire.helo);
  // The EHLO reply depends only on TLS and AUTH state (RFC 3207 §4.2, RFC 4954 §4): render once.
  const key = `${session.tls ? 1 : 0}${session.user !== null ? 1 : 0}${conn.listener.implicitTls ? 1 : 0}`;
  let wire = conn.host.ehloCache.get(key);
  if (wire === undefined) {
    wire = replyToBuffer(ehloReply(hostname, session.extensions, 'greets you'));
    conn.host.ehloCache.set(key, wire);
  }
  conn.send(wire);
}
