/**
 * Replies only the server gives (connection-level events), next to the protocol library's
 * `Replies`, plus pre-rendered buffers for the hot path.
 */
import {
  formatReply,
  heloReply,
  replyToBuffer,
  Replies,
  SmtpError,
  smtpReply,
  type SmtpReply,
} from '@mta/smtp-protocol';

export const ServerReplies = {
  /** RFC 5321 §4.5.3.2 / §3.8: the client was silent too long. 421 4.4.2 then close. */
  timeout: (hostname: string): SmtpError =>
    new SmtpError(421, '4.4.2', `${hostname} Error: timeout exceeded, closing connection`),
  /** The client talked before the greeting (RFC 5321 §3.1, §4.3.1): 554 5.5.1 then close. */
  earlyTalker: (): SmtpError =>
    new SmtpError(554, '5.5.1', 'Protocol error: client talked before the greeting'),
  /** Graceful shutdown (RFC 5321 §3.8): 421 4.3.2 then close. */
  shuttingDown: (hostname: string): SmtpError =>
    new SmtpError(421, '4.3.2', `${hostname} Service shutting down, closing connection`),
  /** Too many connections from this client IP: 421 4.7.0 at connect. */
  tooManyFromIp: (hostname: string): SmtpError =>
    new SmtpError(421, '4.7.0', `${hostname} Error: too many connections from your address`),
  /** Too many connections in total: 421 4.3.2 at connect (RFC 3463: system not accepting messages). */
  tooManyConnections: (hostname: string): SmtpError =>
    new SmtpError(421, '4.3.2', `${hostname} Error: too many connections, try again later`),
  /** Too many bad commands (RFC 5321 §4.2.4 leaves it to the server): 421 4.7.0 then close. */
  tooManyErrors: (hostname: string): SmtpError =>
    new SmtpError(421, '4.7.0', `${hostname} Error: too many errors, closing connection`),
  /** RFC 4954 §6: the credentials could not be checked right now. */
  authTemporaryFailure: (): SmtpError => new SmtpError(454, '4.7.0', 'Temporary authentication failure'),
  /** The BDAT size could not be parsed: the rest of the stream cannot be framed any more. */
  lostSync: (hostname: string): SmtpError =>
    new SmtpError(421, '4.5.0', `${hostname} Error: cannot frame BDAT data, closing connection`),
} as const;

/** Replies that go out for nearly every message, rendered once per server. */
export function renderWire(enhancedStatusCodes: boolean, hostname: string, greetingText: string) {
  const wire = (r: SmtpReply): Buffer =>
    replyToBuffer(enhancedStatusCodes || r.enhanced === undefined ? r : { code: r.code, lines: r.lines });
  return {
    // RFC 5321 §4.3.1 / RFC 2034 §3: the greeting carries no enhanced code.
    greeting: replyToBuffer(Replies.greeting(hostname, greetingText)),
    // RFC 5321 §4.1.1.1: the 250 to HELO (no extensions, so no enhanced code either).
    helo: replyToBuffer(heloReply(hostname)),
    ok: wire(Replies.ok()),
    senderOk: wire(Replies.senderOk()),
    recipientOk: wire(Replies.recipientOk()),
    startData: wire(Replies.startData()),
    accepted: wire(smtpReply(250, '2.0.0', 'OK: message accepted')),
    cannotVerify: wire(Replies.cannotVerify()),
    help: wire(Replies.help()),
    readyToStartTls: wire(Replies.readyToStartTls()),
    authSucceeded: wire(Replies.authSucceeded()),
    // RFC 5321 §4.1.1.10: the answer to QUIT, once per connection.
    closing: wire(Replies.closing(`${hostname} closing connection`)),
    queued: queuedReplyRenderer(enhancedStatusCodes),
  } as const;
}

export type Wire = ReturnType<typeof renderWire>;

/**
 * `250 2.0.0 OK: queued as <id>` (without the enhanced code when they are off) for every message
 * accepted with a queue id: the text around the id rendered once, the id checked as
 * `smtpReply` does (no control characters, else the same RangeError from `Replies.queued`).
 */
export function queuedReplyRenderer(enhancedStatusCodes: boolean): (queueId: string) => Buffer {
  const r = Replies.queued('');
  const text = formatReply(enhancedStatusCodes ? r : { code: r.code, lines: r.lines });
  const prefix = text.slice(0, -2); // without its CRLF
  return (queueId) => {
    for (let i = 0; i < queueId.length; i++) {
      const c = queueId.charCodeAt(i);
      if (c < 0x20 || c === 0x7f) Replies.queued(queueId); // throws the RangeError
    }
    return Buffer.from(`${prefix}${queueId}\r\n`, 'utf8');
  };
}

/** Codes that mean "the client sent something wrong" and count toward `maxBadCommands`. */
export const BAD_COMMAND_CODES: ReadonlySet<number> = new Set([500, 501, 502, 503, 504, 535, 555]);
