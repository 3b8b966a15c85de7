/** NOOP, RSET, VRFY, HELP and QUIT (RFC 5321 §4.1.1.5 – §4.1.1.10). */
import type { BareCommand, TextArgCommand } from '@mta/smtp-protocol';
import type { Connection } from '../connection';

/** RFC 5321 §4.1.1.9: 250, whatever the argument. */
export function noop(conn: Connection, _cmd: TextArgCommand): void {
  conn.send(conn.options.wire.ok);
}

/** RFC 5321 §4.1.1.5: abort the transaction, keep the greeting. */
export function rset(conn: Connection, cmd: BareCommand): void {
  conn.session.apply(cmd);
  conn.send(conn.options.wire.ok);
}

/** RFC 5321 §3.5.3, §7.3: we do not disclose mailboxes; 252 "cannot verify". */
export function vrfy(conn: Connection, _cmd: TextArgCommand): void {
  conn.send(conn.options.wire.cannotVerify);
}

/** RFC 5321 §4.1.1.8: 214. */
export function help(conn: Connection, _cmd: TextArgCommand): void {
  conn.send(conn.options.wire.help);
}

/** RFC 5321 §4.1.1.10: 221, then close once the reply is written; pipelined input is dropped. */
export function quit(conn: Connection, cmd: BareCommand): void {
  conn.session.apply(cmd);
  conn.close(conn.options.wire.closing, false);
}
