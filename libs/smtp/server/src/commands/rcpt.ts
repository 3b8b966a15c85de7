/** RCPT TO (RFC 5321 §4.1.1.3): the session checked sequence and the recipient limit (452 4.5.3). */
import { type RcptCommand } from '@mta/smtp-protocol';
import type { Connection } from '../connection';
import { refusal } from './refusal';

export function rcpt(conn: Connection, cmd: RcptCommand): void {
  const onRcptTo = conn.handler.onRcptTo;
  if (!onRcptTo) return accept(conn, cmd);
  conn.hook(
    () => onRcptTo.call(conn.handler, conn.info, cmd),
    (r) => {
      const refused = refusal(r);
      if (refused) return conn.send(refused);
      accept(conn, cmd, r);
    },
  );
}

function accept(conn: Connection, cmd: RcptCommand, reply?: Parameters<Connection['send']>[0] | void): void {
  const verdict = conn.session.apply(cmd);
  if (!verdict.allowed) return conn.refuse(verdict.error);
  conn.send(reply ?? conn.options.wire.recipientOk);
}
