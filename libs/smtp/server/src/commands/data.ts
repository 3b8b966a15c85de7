/** DATA (RFC 5321 §4.1.1.4) and BDAT (RFC 3030 §2): start or continue the message body. */
import type { BareCommand, BdatCommand } from '@mta/smtp-protocol';
import { BodyTransfer } from '../body-transfer';
import type { Connection } from '../connection';
import { Mode } from '../mode';

export function data(conn: Connection, cmd: BareCommand): void {
  conn.session.apply(cmd);
  conn.send(conn.options.wire.startData);
  conn.body = new BodyTransfer(conn, 'data');
  conn.setMode(Mode.Body);
}

export function bdat(conn: Connection, cmd: BdatCommand): void {
  const first = conn.session.transaction?.body !== 'bdat';
  conn.session.apply(cmd);
  if (first || conn.body === null) conn.body = new BodyTransfer(conn, 'bdat');
  conn.body.beginChunk(cmd.size, cmd.last);
}

/**
 * RFC 3030 §2: the octets of a refused BDAT chunk are read and dropped, then the refusal is sent.
 * Returns false when more input is needed.
 */
export function skipChunk(conn: Connection): boolean {
  const buf = conn.input.takeAll();
  const skip = conn.skip;
  if (buf === null || skip === null) return false;
  const n = Math.min(buf.length, skip.remaining);
  skip.remaining -= n;
  conn.input.unshift(buf.subarray(n));
  if (skip.remaining === 0) {
    conn.skip = null;
    conn.setMode(Mode.Command);
    conn.refuse(skip.reply);
  }
  return true;
}
