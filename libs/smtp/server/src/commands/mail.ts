/** MAIL FROM (RFC 5321 §4.1.1.2): the session checked sequence, SIZE= (RFC 1870 §6.1) and TLS/AUTH. */
import { type MailCommand } from '@mta/smtp-protocol';
import type { Connection } from '../connection';
import { refusal } from './refusal';

export function mail(conn: Connection, cmd: MailCommand): void {
  // RFC 4954 §5: an AUTH= parameter from a client that has not authenticated is not trusted:
  // it is handled as AUTH=<>.
  const mailCmd: MailCommand =
    cmd.params.auth !== undefined && conn.session.user === null
      ? { ...cmd, params: { ...cmd.params, auth: null } }
      : cmd;
  const onMailFrom = conn.handler.onMailFrom;
  if (!onMailFrom) return accept(conn, mailCmd);
  conn.hook(
    () => onMailFrom.call(conn.handler, conn.info, mailCmd),
    (r) => {
      const refused = refusal(r);
      if (refused) return conn.send(refused);
      accept(conn, mailCmd, r);
    },
  );
}

function accept(conn: Connection, cmd: MailCommand, reply?: Parameters<Connection['send']>[0] | void): void {
  const verdict = conn.session.apply(cmd);
  if (!verdict.allowed) return conn.refuse(verdict.error);
  conn.send(reply ?? conn.options.wire.senderOk);
}
