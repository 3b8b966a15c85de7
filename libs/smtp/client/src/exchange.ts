/**
 * The envelope of one transaction: MAIL, every RCPT and, when the body goes with DATA, DATA.
 *
 * With PIPELINING (RFC 2920 §3.1) they go in one group, in one write: MAIL and RCPT may stand
 * anywhere in a group, DATA only last (its reply changes the session's state). The replies are
 * then read in the order of the commands. That saves the round trip of a separate DATA. BDAT
 * (RFC 3030) is not put in the group: its chunk carries content, which we send only once some
 * recipient is known to be accepted. Without PIPELINING each command waits for its reply
 * (RFC 5321 §4.1), and DATA is sent later by the body writer.
 */
import { replyClass, type SmtpReply } from '@mta/smtp-protocol';
import type { Connection } from './connection';
import type { RecipientLedger } from './results';
import type { Timeouts } from './timeouts';

export interface EnvelopeCommands {
  readonly mail: string;
  readonly rcpts: readonly string[];
  /** Put DATA at the end of the group (PIPELINING offered and the body goes with DATA). */
  readonly dataInGroup: boolean;
}

export interface EnvelopeReplies {
  readonly mail: SmtpReply;
  /**
   * The reply to DATA when it went in the group. Null when DATA was not sent, or when its reply
   * could not be read: then the connection is no longer open (a 421, a drop, a timeout), or
   * nobody was accepted and the reply no longer matters.
   */
  readonly data: SmtpReply | null;
}

/** Send the envelope and record each RCPT reply in `ledger`. Transport failures are thrown. */
export function exchangeEnvelope(
  conn: Connection,
  t: Timeouts,
  cmds: EnvelopeCommands,
  pipelining: boolean,
  ledger: RecipientLedger,
): Promise<EnvelopeReplies> {
  return pipelining ? pipelined(conn, t, cmds, ledger) : lockstep(conn, t, cmds, ledger);
}

async function pipelined(
  conn: Connection,
  t: Timeouts,
  cmds: EnvelopeCommands,
  ledger: RecipientLedger,
): Promise<EnvelopeReplies> {
  conn.together(() => {
    conn.writeLine(cmds.mail);
    for (const line of cmds.rcpts) conn.writeLine(line);
    if (cmds.dataInGroup) conn.writeLine('DATA'); // RFC 2920 §3.1: DATA only as the last command
  });
  // RFC 2920 §3.1: the client "MUST check ALL statuses associated with each command in a group".
  const mail = await conn.read('mail', t.mail);
  const mailOk = replyClass(mail) === 'positive';
  let closing = mail.code === 421;
  for (let i = 0; i < cmds.rcpts.length; i++) {
    let reply: SmtpReply;
    try {
      reply = await conn.read('rcpt', t.rcpt);
    } catch (e) {
      if (mailOk) throw e;
      return { mail, data: null }; // MAIL was refused (e.g. 421 and close): that reply is the answer for everyone
    }
    // After a refused MAIL the RCPT replies (503 "need MAIL") say nothing about the recipient.
    if (mailOk) ledger.rcptReply(i, reply);
    if (reply.code === 421) closing = true;
  }
  // After a 421 the server is closing (RFC 5321 §3.8): do not wait for the DATA reply.
  if (!cmds.dataInGroup || closing) return { mail, data: null };
  try {
    return { mail, data: await conn.read('data', t.dataInit) }; // RFC 5321 §4.5.3.2.4
  } catch (e) {
    // With nobody accepted, a server closing on our DATA costs no recipient anything (their
    // RCPT replies stand); the failed connection is closed by the caller.
    if (mailOk && ledger.acceptedCount() > 0) throw e;
    return { mail, data: null };
  }
}

async function lockstep(
  conn: Connection,
  t: Timeouts,
  cmds: EnvelopeCommands,
  ledger: RecipientLedger,
): Promise<EnvelopeReplies> {
  const mail = await conn.command(cmds.mail, 'mail', t.mail);
  if (replyClass(mail) !== 'positive') return { mail, data: null };
  for (let i = 0; i < cmds.rcpts.length; i++) {
    const reply = await conn.command(cmds.rcpts[i], 'rcpt', t.rcpt);
    ledger.rcptReply(i, reply);
    if (reply.code === 421) break; // the server is closing; the rest stay unsettled → deferred
  }
  return { mail, data: null };
}
