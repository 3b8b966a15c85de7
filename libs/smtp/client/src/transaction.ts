/**
 * One mail transaction on an established session: checks → MAIL/RCPT → DATA or BDAT.
 *
 * PIPELINING (RFC 2920 §3.1): MAIL, every RCPT and DATA go in one group (exchange.ts), so
 * that a message costs no round trip for DATA; with BDAT, the first chunk is sent only after
 * the RCPT replies are read. When nobody was accepted, DATA was sent all the same: the server
 * normally refuses it (RFC 5321 §3.3), and if it answers 354 the client sends just the dot
 * (`endUnwantedData`). Without PIPELINING, each command waits for its reply (RFC 5321 §4.1).
 */
import {
  assertCrlf,
  BareLineEndingError,
  NulError,
  hasEightBit,
  replyClass,
  replyText,
  type EhloCapabilities,
  type SmtpReply,
} from '@mta/smtp-protocol';
import { afterDataReply, sendBdat, sendData, sendEmptyData, type MessageBody } from './body-writer';
import type { Connection } from './connection';
import {
  assertSafeAddress,
  headerHasNonAscii,
  mailCommand,
  needsSmtpUtf8,
  rcptCommand,
  type DsnRequest,
  type Recipient,
} from './envelope';
import { DeliveryError } from './errors';
import { exchangeEnvelope, type EnvelopeReplies } from './exchange';
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
  /**
   * The message is SMTPUTF8 (RFC 6531: its client said so). The parameter goes to a peer that
   * offers SMTPUTF8. To a peer without it, the message goes without the parameter when nothing
   * in it needs UTF-8 (ASCII addresses and `utf8Headers` false), and fails with 554 5.6.7
   * otherwise (RFC 6531 §3.4; Postfix checks the same: sender, recipients, header).
   * Non-ASCII addresses make a message SMTPUTF8 whatever this says.
   */
  readonly smtpUtf8?: boolean;
  /**
   * With `smtpUtf8`: the header block holds non-ASCII (RFC 6532). Detected for a Buffer; for a
   * stream, unknown, and taken as true (the message is refused by a peer without SMTPUTF8).
   */
  readonly utf8Headers?: boolean;
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
  const needsUtf8 =
    needsSmtpUtf8(msg.from) || rcpts.some((r) => needsSmtpUtf8(r.address)) || utf8Headers(msg);
  const smtpUtf8 = needsUtf8 || msg.smtpUtf8 === true;
  const fail = (code: number, enhanced: string, text: string): MessageOutcome =>
    outcomeOf('mail', DeliveryError.permanent('mail', code, enhanced, text));

  // RFC 1870 §6: do not send a message larger than the announced fixed limit (0 = no limit).
  if (caps.size && size !== null && size > caps.size) {
    return fail(552, '5.3.4', `message size ${size} exceeds the server's limit of ${caps.size} octets`);
  }
  // RFC 6531 §3.2 / §3.4: a message that needs SMTPUTF8 must not go to a peer without it
  // (Postfix: "SMTPUTF8 is required, but was not offered by host", X.6.7). One that was only
  // flagged SMTPUTF8, with ASCII addresses and header, goes without the parameter.
  if (needsUtf8 && !caps.smtpUtf8) {
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
  if (Buffer.isBuffer(msg.body) && msg.body.includes(0)) {
    // RFC 5322 §2.1, §3.5: no NUL in mail; refused before the first byte goes out, DATA or BDAT.
    return { ...fail(554, '5.6.0', new NulError(msg.body.indexOf(0)).message), stage: 'data' };
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

/** A SMTPUTF8 message's header needs UTF-8 (see OutgoingMessage.utf8Headers). */
function utf8Headers(msg: OutgoingMessage): boolean {
  if (msg.smtpUtf8 !== true) return false;
  return msg.utf8Headers ?? (Buffer.isBuffer(msg.body) ? headerHasNonAscii(msg.body) : true);
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
  // LMTP: DATA only. RFC 2033 defines the per-recipient replies after DATA's final dot; we
  // do not rely on how an LMTP server answers BDAT LAST (RFC 3030 leaves LMTP out).
  const useBdat = ctx.caps.chunking && !ctx.lmtp;
  let message: MessageOutcome | null = null;
  try {
    const env = await sendEnvelope(ctx, msg, rcpts, prepared, ledger, useBdat);
    if (replyClass(env.mail) !== 'positive') {
      message = outcomeOf('mail', env.mail);
      ledger.settleOpen(message);
      await endUnwantedData(ctx, env.data);
      await resetQuietly(ctx);
      return { recipients: ledger.results(), message };
    }
    if (env.data === null && !ctx.conn.isOpen()) {
      // A 421 to some RCPT: the server is closing; nobody can be confirmed (RFC 5321 §3.8).
      // (A 421 to a pipelined DATA is that DATA's reply, handled below as a refused DATA.)
      ledger.deferOpen(
        ctx.conn.error ?? DeliveryError.local('rcpt', '4.4.2', 'the server is closing the connection'),
      );
      return { recipients: ledger.results(), message: null };
    }
    if (ledger.acceptedCount() === 0) {
      // Each recipient keeps its own RCPT reply; whatever the DATA reply was, nothing is delivered.
      await endUnwantedData(ctx, env.data);
      await resetQuietly(ctx);
      return { recipients: ledger.results(), message: null };
    }
    const opts = { reject8bit: prepared.reject8bit, chunkSize: ctx.bdatChunkSize };
    // env.data: the reply to the DATA sent in the group. Null: DATA (or BDAT) is still to be sent
    // (a grouped DATA whose reply went unread left the connection closed, handled above).
    const answer = env.data
      ? await afterDataReply(ctx.conn, env.data, prepared.body, ctx.timeouts, opts)
      : await (useBdat ? sendBdat : sendData)(ctx.conn, prepared.body, ctx.timeouts, opts);
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

/** MAIL + RCPTs (+ DATA when pipelined and the body goes with DATA). */
function sendEnvelope(
  ctx: TransactionContext,
  msg: OutgoingMessage,
  rcpts: readonly Recipient[],
  p: Prepared,
  ledger: RecipientLedger,
  useBdat: boolean,
): Promise<EnvelopeReplies> {
  const { caps } = ctx;
  const mail = mailCommand(msg.from, caps, {
    size: p.size,
    eightBit: p.eightBit,
    smtpUtf8: p.smtpUtf8,
    requireTls: msg.requireTls === true,
    dsn: msg.dsn,
  });
  const cmds = {
    mail,
    rcpts: rcpts.map((r) => rcptCommand(r, caps)),
    dataInGroup: caps.pipelining && !useBdat, // RFC 2920 §3.1: DATA may end the group
  };
  return exchangeEnvelope(ctx.conn, ctx.timeouts, cmds, caps.pipelining, ledger);
}

/**
 * Nobody is left to deliver to (MAIL refused, or every RCPT refused), but DATA went in the
 * group. The server should refuse it (RFC 5321 §3.3: 503 or 554; RFC 2033 §4.2: 503 in LMTP),
 * and then no content may be sent. RFC 2920 §3.1: the client must still check that reply, and
 * if DATA was accepted (354) it "should send a single dot", an empty message that ends the
 * server's data mode. The reply to that dot delivers nothing of ours and is not reported.
 * A failure here only closes the connection: every recipient already has its answer.
 */
async function endUnwantedData(ctx: TransactionContext, data: SmtpReply | null): Promise<void> {
  if (data === null || replyClass(data) !== 'intermediate') return;
  const { conn } = ctx;
  if (data.code !== 354 || ctx.lmtp) {
    // Another 3xx: we cannot tell what the server now expects. LMTP: after the dot the server
    // owes one reply per accepted recipient (RFC 2033 §4.2), and a server that broke the 503
    // rule leaves us unable to know how many come. Either way, drop the session.
    conn.fail(DeliveryError.local('data', '4.5.0', `unexpected reply ${data.code} ${replyText(data)}`));
    return;
  }
  try {
    const reply = await sendEmptyData(conn, ctx.timeouts);
    if (replyClass(reply) === 'intermediate') {
      conn.fail(
        DeliveryError.local('end-of-data', '4.5.0', `unexpected reply ${reply.code} ${replyText(reply)}`),
      );
    }
  } catch (e) {
    if (!(e instanceof DeliveryError)) throw e; // the connection has failed and is closed
  }
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
