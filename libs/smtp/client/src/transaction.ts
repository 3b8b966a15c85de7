/**
 * One mail transaction on an established session: checks → MAIL/RCPT → DATA or BDAT.
 *
 * PIPELINING choice (RFC 2920 §3.1): MAIL and every RCPT go in one batch; DATA (or the
 * first BDAT) is sent only after all RCPT replies are read. RFC 2920 allows DATA at the
 * end of the batch, but then a transaction whose recipients were all refused has a DATA
 * in flight that the server may answer 354, and the client must send an empty message
 * and hope it is discarded. One round trip is worth avoiding that. Without PIPELINING,
 * each command waits for its reply (RFC 5321 §4.1).
 */
import {
  assertCrlf,
  BareLineEndingError,
  hasEightBit,
  replyText,
  type EhloCapabilities,
  type SmtpReply,
} from '@mta/smtp-protocol';
import { sendBdat, sendData, type MessageBody } from './body-writer';
import type { Connection } from './connection';
import {
  assertSafeAddress,
  mailCommand,
  needsSmtpUtf8,
  rcptCommand,
  type DsnRequest,
  type Recipient,
} from './envelope';
import { DeliveryError } from './errors';
import { outcomeOf, RecipientLedger, type MessageOutcome, type RecipientResult } from './results';
import type { Timeouts } from './timeouts';

export interface OutgoingMessage {
  /** Reverse-path without brackets; `''` for the null sender (bounces). */
  readonly from: string;
  readonly recipients: readonly (string | Recipient)[];
  /** The message, headers and body, with CRLF line endings, not dot-stuffed. */
  readonly body: MessageBody;
  /** Size in octets; computed for a Buffer. For a stream, give it to use SIZE (RFC 1870). */
  readonly size?: number;
  /**
   * Whether the content has 8-bit octets. Detected for a Buffer. For a stream, unknown:
   * we declare BODY=8BITMIME when the peer offers it, and otherwise enforce 7-bit while sending.
   */
  readonly eightBit?: boolean;
  /** The headers need SMTPUTF8 (RFC 6532). Addresses are checked automatically. */
  readonly smtpUtf8?: boolean;
  /** RFC 3461 parameters, sent only when the peer offers DSN. */
  readonly dsn?: DsnRequest;
  /** RFC 8689: the message may only travel over TLS to REQUIRETLS-capable peers. */
  readonly requireTls?: boolean;
}

export interface SendResult {
  /** One entry per recipient, in the order given. */
  readonly recipients: RecipientResult[];
  /** The reply that decided the message (end of data, or the MAIL/DATA refusal); null if none got that far. */
  readonly message: MessageOutcome | null;
}

export interface TransactionContext {
  readonly conn: Connection;
  readonly caps: EhloCapabilities;
  readonly timeouts: Timeouts;
  readonly tlsActive: boolean;
  /** LMTP (RFC 2033): one reply per accepted recipient after the end of data; DATA only. */
  readonly lmtp?: boolean;
  readonly bdatChunkSize?: number;
}

interface Prepared {
  readonly body: MessageBody;
  readonly size: number | null;
  readonly eightBit: boolean;
  readonly smtpUtf8: boolean;
  readonly reject8bit: boolean;
}

/**
 * Local verdicts before anything is sent: the message cannot go to this peer as it is.
 * Returns the message outcome to apply to every recipient, or the prepared content.
 */
export function prepare(
  msg: OutgoingMessage,
  ctx: TransactionContext,
  rcpts: readonly Recipient[],
): Prepared | MessageOutcome {
  const { caps } = ctx;
  const size = msg.size ?? (Buffer.isBuffer(msg.body) ? msg.body.length : null);
  const eightBit = msg.eightBit ?? (Buffer.isBuffer(msg.body) ? hasEightBit(msg.body) : caps.eightBitMime);
  const smtpUtf8 =
    msg.smtpUtf8 === true || needsSmtpUtf8(msg.from) || rcpts.some((r) => needsSmtpUtf8(r.address));
  const fail = (code: number, enhanced: string, text: string): MessageOutcome =>
    outcomeOf('mail', DeliveryError.permanent('mail', code, enhanced, text));

  // RFC 1870 §6: do not send a message larger than the announced fixed limit (0 = no limit).
  if (caps.size && size !== null && size > caps.size) {
    return fail(552, '5.3.4', `message size ${size} exceeds the server's limit of ${caps.size} octets`);
  }
  // RFC 6531 §3.2 / §3.4: an internationalised message must not go to a peer without SMTPUTF8
  // (Postfix: "SMTPUTF8 is required, but was not offered by host", X.6.7).
  if (smtpUtf8 && !caps.smtpUtf8) {
    return fail(554, '5.6.7', 'SMTPUTF8 is required, but was not offered by the server');
  }
  // RFC 6152 §3: 8-bit content needs 8BITMIME. We do not downgrade to quoted-printable:
  // it would break DKIM signatures. RFC 3463 X.6.3 "Conversion required but not supported".
  if (eightBit && !caps.eightBitMime) {
    return fail(554, '5.6.3', '8-bit message, but the server does not offer 8BITMIME');
  }
  // RFC 8689 §4.2.1: REQUIRETLS messages only over TLS to a peer that offers it.
  if (msg.requireTls && (!ctx.tlsActive || !caps.requireTls)) {
    return fail(
      550,
      '5.7.30',
      'REQUIRETLS is required, but the session is not TLS or the server does not offer REQUIRETLS',
    );
  }
  if (Buffer.isBuffer(msg.body) && !caps.chunking) {
    // Check the framing of a Buffer before the first byte goes out; streams are checked as they flow.
    try {
      assertCrlf(msg.body);
    } catch (e) {
      if (!(e instanceof BareLineEndingError)) throw e;
      return { ...fail(554, '5.6.0', e.message), stage: 'data' };
    }
  }
  return { body: msg.body, size, eightBit, smtpUtf8, reject8bit: !caps.eightBitMime };
}

export function normaliseRecipients(list: readonly (string | Recipient)[]): Recipient[] {
  return list.map((r) => (typeof r === 'string' ? { address: r } : r));
}

export async function runTransaction(ctx: TransactionContext, msg: OutgoingMessage): Promise<SendResult> {
  const rcpts = normaliseRecipients(msg.recipients);
  if (rcpts.length === 0) throw new TypeError('a message needs at least one recipient');
  for (const addr of [msg.from, ...rcpts.map((r) => r.address)]) assertSafeAddress(addr);
  const ledger = new RecipientLedger(rcpts.map((r) => r.address));

  const prepared = prepare(msg, ctx, rcpts);
  if ('kind' in prepared) {
    ledger.settleOpen(prepared);
    return { recipients: ledger.results(), message: prepared };
  }
  let message: MessageOutcome | null = null;
  try {
    const mail = await exchangeEnvelope(ctx, msg, rcpts, prepared, ledger);
    if (mail.code < 200 || mail.code >= 300) {
      message = outcomeOf('mail', mail);
      ledger.settleOpen(message);
      await resetQuietly(ctx);
      return { recipients: ledger.results(), message };
    }
    if (!ctx.conn.isOpen()) {
      // A 421 to some RCPT: the server is closing; nobody can be confirmed (RFC 5321 §3.8).
      ledger.deferOpen(
        ctx.conn.error ?? DeliveryError.local('rcpt', '4.4.2', 'the server is closing the connection'),
      );
      return { recipients: ledger.results(), message: null };
    }
    if (ledger.acceptedCount() === 0) {
      await resetQuietly(ctx);
      return { recipients: ledger.results(), message: null };
    }
    // LMTP: DATA only. RFC 2033 defines the per-recipient replies after DATA's final dot; we
    // do not rely on how an LMTP server answers BDAT LAST (RFC 3030 leaves LMTP out).
    const send = ctx.caps.chunking && !ctx.lmtp ? sendBdat : sendData;
    const answer = await send(ctx.conn, prepared.body, ctx.timeouts, {
      reject8bit: prepared.reject8bit,
      chunkSize: ctx.bdatChunkSize,
    });
    const final = answer.reply;
    message = outcomeOf(answer.stage, final);
    if (final.code >= 300 && final.code < 400) {
      // A 3xx where a final reply was due: the server is confused; do not trust this session.
      const err = ctx.conn.fail(
        DeliveryError.local('data', '4.5.0', `unexpected reply ${final.code} ${replyText(final)}`),
      );
      ledger.deferOpen(err);
      return { recipients: ledger.results(), message: outcomeOf('data', err) };
    }
    if (ctx.lmtp && answer.stage === 'end-of-data') {
      await readLmtpReplies(ctx, final, ledger);
      return { recipients: ledger.results(), message };
    }
    ledger.settleOpen(message);
    if (final.code >= 400) await resetQuietly(ctx); // DATA/BDAT refused: RFC 3030 §3, RFC 5321 §4.1.1.5
    return { recipients: ledger.results(), message };
  } catch (e) {
    if (!(e instanceof DeliveryError)) throw e;
    if (e.source === 'local' && e.kind === 'failed') ledger.settleOpen(outcomeOf(e.stage, e));
    else ledger.deferOpen(e);
    return { recipients: ledger.results(), message: outcomeOf(e.stage, e) };
  }
}

/** MAIL + RCPTs, pipelined when offered (RFC 2920 §3.1). Returns the MAIL reply. */
async function exchangeEnvelope(
  ctx: TransactionContext,
  msg: OutgoingMessage,
  rcpts: readonly Recipient[],
  p: Prepared,
  ledger: RecipientLedger,
): Promise<SmtpReply> {
  const { conn, caps, timeouts: t } = ctx;
  const mail = mailCommand(msg.from, caps, {
    size: p.size,
    eightBit: p.eightBit,
    smtpUtf8: p.smtpUtf8,
    requireTls: msg.requireTls === true,
    dsn: msg.dsn,
  });
  const rcptLines = rcpts.map((r) => rcptCommand(r, caps));
  if (caps.pipelining) {
    conn.together(() => {
      conn.writeLine(mail);
      for (const line of rcptLines) conn.writeLine(line);
    });
    const mailReply = await conn.read('mail', t.mail);
    const mailOk = mailReply.code >= 200 && mailReply.code < 300;
    for (let i = 0; i < rcptLines.length; i++) {
      let reply: SmtpReply;
      try {
        reply = await conn.read('rcpt', t.rcpt);
      } catch (e) {
        if (mailOk) throw e;
        break; // MAIL was refused (e.g. 421 and close): that reply is the answer for everyone
      }
      // After a refused MAIL the RCPT replies (503 "need MAIL") say nothing about the recipient.
      if (mailOk) ledger.rcptReply(i, reply);
    }
    return mailReply;
  }
  const mailReply = await conn.command(mail, 'mail', t.mail);
  if (mailReply.code < 200 || mailReply.code >= 300) return mailReply;
  for (let i = 0; i < rcptLines.length; i++) {
    const reply = await conn.command(rcptLines[i], 'rcpt', t.rcpt);
    ledger.rcptReply(i, reply);
    if (reply.code === 421) break; // the server is closing; the rest stay unsettled → deferred
  }
  return mailReply;
}

/**
 * RFC 2033 §4.2: after the final dot, an LMTP server sends one reply per recipient it accepted
 * at RCPT, in RCPT order; `first` (already read) is the first one. A drop or timeout part-way
 * leaves the rest unsettled, and the caller's catch defers them. The transaction is then over
 * (no RSET is needed, whatever the replies were).
 */
async function readLmtpReplies(
  ctx: TransactionContext,
  first: SmtpReply,
  ledger: RecipientLedger,
): Promise<void> {
  const count = ledger.acceptedCount();
  ledger.settleNextAccepted(outcomeOf('end-of-data', first));
  for (let i = 1; i < count; i++) {
    const reply = await ctx.conn.read('end-of-data', ctx.timeouts.endOfData);
    ledger.settleNextAccepted(outcomeOf('end-of-data', reply));
  }
}

/** End an aborted transaction (RFC 5321 §4.1.1.5); a failure here only makes the session unusable. */
async function resetQuietly(ctx: TransactionContext): Promise<void> {
  if (!ctx.conn.isOpen()) return;
  try {
    const reply = await ctx.conn.command('RSET', 'rset', ctx.timeouts.rset);
    if (reply.code !== 250) ctx.conn.fail(DeliveryError.refused('rset', reply, 'deferred'));
  } catch {
    /* the connection has already failed and is closed */
  }
}
