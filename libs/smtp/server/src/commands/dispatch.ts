/**
 * The guards every command goes through, in one place, then one handler per verb:
 *
 * 1. parse (RFC 5321 §4.1.1; 500/501/502/555 from the protocol library);
 * 2. a server that is shutting down answers 421 4.3.2 outside a transaction (RFC 5321 §3.8);
 * 3. the session's sequence rules (503 5.5.1, 530 5.7.0, 452 4.5.3, 552 5.3.4 for SIZE=);
 * 4. the verb's handler, which asks the service's hook and applies the command.
 */
import { isAscii } from 'node:buffer';
import { parseCommand, type SmtpCommand, type SmtpVerb } from '@mta/smtp-protocol';
import { TransferAbortedError } from '../body-transfer';
import type { Connection } from '../connection';
import { ServerReplies } from '../server-replies';
import { auth } from './auth';
import { bdat, data } from './data';
import { helo } from './helo';
import { mail } from './mail';
import { help, noop, quit, rset, vrfy } from './misc';
import { rcpt } from './rcpt';
import { startTls } from './starttls';

type Handler<V extends SmtpVerb> = (conn: Connection, cmd: Extract<SmtpCommand, { verb: V }>) => void;

const VERBS: { [V in SmtpVerb]: Handler<V> } = {
  HELO: helo,
  EHLO: helo,
  MAIL: mail,
  RCPT: rcpt,
  DATA: data,
  BDAT: bdat,
  AUTH: auth,
  STARTTLS: startTls,
  RSET: rset,
  NOOP: noop,
  VRFY: vrfy,
  HELP: help,
  QUIT: quit,
};

export function dispatch(conn: Connection, line: Buffer): void {
  const session = conn.session;
  // Most command lines are ASCII: decode them the cheap way (UTF-8 is only valid in addresses).
  const parsed = parseCommand(isAscii(line) ? line.toString('latin1') : line, session.parseOptions);
  if (!parsed.ok) {
    // RFC 3030 §2: without a chunk size we cannot tell the chunk's end from the next command, and
    // reading the chunk as commands would let its content act as SMTP commands: close.
    if (parsed.verb === 'BDAT') return conn.close(ServerReplies.lostSync(conn.options.hostname));
    return conn.refuse(parsed.error);
  }
  const cmd = parsed.command;
  if (conn.draining && session.transaction === null && cmd.verb !== 'QUIT') {
    return conn.close(ServerReplies.shuttingDown(conn.options.hostname));
  }
  const verdict = session.check(cmd);
  if (!verdict.allowed) {
    // RFC 3030 §2: a refused BDAT chunk is still read (and thrown away) before the reply.
    if (cmd.verb === 'BDAT' && cmd.size > 0) return conn.skipChunk(cmd.size, verdict.error);
    return conn.refuse(verdict.error);
  }
  (VERBS[cmd.verb] as Handler<typeof cmd.verb>)(conn, cmd);
  // RSET, HELO/EHLO between BDAT chunks reset the transaction: the body in progress is void.
  if (conn.body !== null && session.transaction === null) {
    conn.body.abort(new TransferAbortedError('Transaction reset by the client'));
    conn.body = null;
  }
}
