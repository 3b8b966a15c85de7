/** STARTTLS (RFC 3207 §4): 220, then the handshake; the session starts over (§4.2). */
import { Replies, type BareCommand } from '@mta/smtp-protocol';
import type { Connection } from '../connection';

export function startTls(conn: Connection, cmd: BareCommand): void {
  const context = conn.options.secureContext;
  if (context === null) return conn.refuse(Replies.notImplemented('STARTTLS'));
  conn.session.apply(cmd);
  conn.send(conn.options.wire.readyToStartTls);
  conn.startTls(context);
}
