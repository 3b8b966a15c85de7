/**
 * Factories for the replies an SMTP server gives most often, so every caller words and codes them
 * the same way. Positive replies are `SmtpReply` values; failures are `SmtpError`s.
 */
import { SmtpError, smtpReply, type SmtpReply } from './reply';

export const Replies = {
  // ---- positive and intermediate ---------------------------------------------------------------
  /** 220 greeting (RFC 5321 §4.3.1; no enhanced code on the greeting, RFC 2034 §3). */
  greeting: (hostname: string, text = 'ESMTP ready'): SmtpReply =>
    smtpReply(220, undefined, `${hostname} ${text}`),
  /** 221 2.0.0 answer to QUIT (RFC 5321 §4.1.1.10). */
  closing: (text = 'Bye'): SmtpReply => smtpReply(221, '2.0.0', text),
  /** 250 2.0.0 generic OK (RSET, NOOP). */
  ok: (text = 'OK'): SmtpReply => smtpReply(250, '2.0.0', text),
  /** 250 2.1.0 sender accepted (RFC 3463: X.1.0). */
  senderOk: (text = 'Sender OK'): SmtpReply => smtpReply(250, '2.1.0', text),
  /** 250 2.1.5 recipient accepted (RFC 3463: X.1.5 destination address valid). */
  recipientOk: (text = 'Recipient OK'): SmtpReply => smtpReply(250, '2.1.5', text),
  /** 250 2.0.0 message accepted, with the queue id. */
  queued: (queueId: string): SmtpReply => smtpReply(250, '2.0.0', `OK: queued as ${queueId}`),
  /** 250 2.0.0 BDAT chunk received (RFC 3030 §2). */
  chunkOk: (octets: number): SmtpReply => smtpReply(250, '2.0.0', `${octets} octets received`),
  /** 252 answer to VRFY: we do not disclose mailboxes (RFC 5321 §3.5.3, §7.3). */
  cannotVerify: (): SmtpReply =>
    smtpReply(252, '2.0.0', 'Cannot VRFY user, but will accept message and attempt delivery'),
  /** 214 answer to HELP. */
  help: (text = 'See https://www.rfc-editor.org/rfc/rfc5321'): SmtpReply => smtpReply(214, '2.0.0', text),
  /** 354 go-ahead after DATA (RFC 5321 §4.1.1.4; no enhanced code on 3yz). */
  startData: (): SmtpReply => smtpReply(354, undefined, 'End data with <CR><LF>.<CR><LF>'),
  /** 220 2.0.0 go-ahead after STARTTLS (RFC 3207 §4). */
  readyToStartTls: (): SmtpReply => smtpReply(220, '2.0.0', 'Ready to start TLS'),
  /** 334 SASL challenge, already base64 (RFC 4954 §4); `''` gives the empty challenge `334 `. */
  authChallenge: (base64: string): SmtpReply => smtpReply(334, undefined, base64),
  /** 235 2.7.0 authentication succeeded (RFC 4954 §6). */
  authSucceeded: (): SmtpReply => smtpReply(235, '2.7.0', 'Authentication successful'),

  // ---- syntax ------------------------------------------------------------------------------------
  /** 500 5.5.1 unrecognised command (RFC 5321 §4.2.4). */
  unknownCommand: (): SmtpError => new SmtpError(500, '5.5.1', 'Command unrecognized'),
  /** 500 5.5.2 syntax error in the command line itself. */
  syntaxError: (text = 'Syntax error'): SmtpError => new SmtpError(500, '5.5.2', text),
  /** 500 5.5.2 command line longer than allowed (RFC 5321 §4.5.3.1.4, §4.5.3.1.10). */
  lineTooLong: (): SmtpError => new SmtpError(500, '5.5.2', 'Line too long'),
  /** 501 5.5.4 syntax error in parameters or arguments (RFC 5321 §4.2.2). */
  badArguments: (text = 'Syntax error in parameters or arguments'): SmtpError =>
    new SmtpError(501, '5.5.4', text),
  /** 501 5.1.7 bad sender mailbox syntax (RFC 3463 X.1.7). */
  badSenderSyntax: (text = 'Bad sender address syntax'): SmtpError => new SmtpError(501, '5.1.7', text),
  /** 501 5.1.3 bad destination mailbox syntax (RFC 3463 X.1.3). */
  badRecipientSyntax: (text = 'Bad recipient address syntax'): SmtpError => new SmtpError(501, '5.1.3', text),
  /** 555 5.5.4 MAIL/RCPT parameter not recognised or not implemented (RFC 5321 §4.1.1.11). */
  unknownParameter: (keyword: string): SmtpError =>
    new SmtpError(555, '5.5.4', `Unsupported MAIL FROM or RCPT TO parameter ${keyword}`),
  /** 502 5.5.1 command not implemented (or not available in this session, RFC 5321 §4.2.4). */
  notImplemented: (verb: string, text = 'Command not implemented'): SmtpError =>
    new SmtpError(502, '5.5.1', `${verb}: ${text}`),
  /** 504 5.5.4 unrecognised authentication mechanism (RFC 4954 §4). */
  unknownAuthMechanism: (): SmtpError => new SmtpError(504, '5.5.4', 'Unrecognized authentication type'),

  // ---- sequence ------------------------------------------------------------------------------------
  /** 503 5.5.1 bad sequence of commands (RFC 5321 §4.3.2). */
  badSequence: (text = 'Bad sequence of commands'): SmtpError => new SmtpError(503, '5.5.1', text),

  // ---- security ------------------------------------------------------------------------------------
  /** 530 5.7.0 STARTTLS first (RFC 3207 §4). */
  tlsRequired: (): SmtpError => new SmtpError(530, '5.7.0', 'Must issue a STARTTLS command first'),
  /** RFC 4954 §6: the mechanism may only be used over an encrypted connection. */
  encryptionRequiredForAuth: (): SmtpError =>
    new SmtpError(
      538,
      '5.7.11',
      'Encryption required for requested authentication mechanism: use STARTTLS first',
    ),
  /** 530 5.7.0 authentication required (RFC 4954 §6). */
  authRequired: (): SmtpError => new SmtpError(530, '5.7.0', 'Authentication required'),
  /** 535 5.7.8 bad credentials (RFC 4954 §6). Never include the credentials. */
  authFailed: (): SmtpError => new SmtpError(535, '5.7.8', 'Authentication credentials invalid'),
  /** 501 5.0.0 client cancelled the exchange with `*` (RFC 4954 §4). */
  authCancelled: (): SmtpError => new SmtpError(501, '5.0.0', 'Authentication cancelled'),
  /** 501 5.5.2 client response is not valid base64 (RFC 4954 §4). */
  authBadBase64: (): SmtpError => new SmtpError(501, '5.5.2', 'Invalid base64 data'),
  /** 500 5.5.6 authentication exchange line too long (RFC 4954 §4, 12288 octets). */
  authLineTooLong: (): SmtpError => new SmtpError(500, '5.5.6', 'Authentication exchange line is too long'),
  /** 553 5.6.7 non-ASCII address without SMTPUTF8 (RFC 6531 §3.5 / §3.7.4). */
  smtpUtf8Required: (): SmtpError =>
    new SmtpError(553, '5.6.7', 'Non-ASCII addresses require the SMTPUTF8 parameter'),

  // ---- limits and data ---------------------------------------------------------------------------
  /** 552 5.3.4 message larger than the limit (RFC 1870 §6; RFC 5321 §4.5.3.1.10). */
  messageTooBig: (limit?: number): SmtpError =>
    new SmtpError(
      552,
      '5.3.4',
      limit === undefined
        ? 'Message size exceeds fixed limit'
        : `Message size exceeds fixed limit of ${limit} octets`,
    ),
  /** 452 4.5.3 too many recipients (RFC 5321 §4.5.3.1.10). */
  tooManyRecipients: (): SmtpError => new SmtpError(452, '4.5.3', 'Too many recipients'),
  /** 550 5.5.2 bare CR or LF in message data (RFC 5321 §2.3.8; SMTP smuggling, 2023). */
  bareLineEnding: (): SmtpError =>
    new SmtpError(550, '5.5.2', 'Message contains bare CR or LF; lines must end with CRLF'),
  /**
   * 550 5.6.0 NUL in message content: RFC 5322 §2.1 / §3.5 (`text` is %d1-127, NUL is only in the
   * obsolete syntax that must not be generated, §4), RFC 2045 §2.7-2.8 (no NUL in 7bit or 8bit data).
   */
  nulInContent: (): SmtpError =>
    new SmtpError(550, '5.6.0', 'Message contains a NUL character, which is not allowed in mail'),
  /** 500 5.5.2 a text line of the message is longer than allowed (RFC 5321 §4.5.3.1.6). */
  dataLineTooLong: (limit: number): SmtpError =>
    new SmtpError(500, '5.5.2', `Line too long: message lines are limited to ${limit} octets including CRLF`),
  /** 451 4.3.0 local error, try again later. */
  localError: (text = 'Local error in processing, try again later'): SmtpError =>
    new SmtpError(451, '4.3.0', text),
} as const;
