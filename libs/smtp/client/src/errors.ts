/**
 * Failures of a session, remote (a server reply) or local (timeout, lost connection,
 * TLS, a policy check before sending), with the SMTP code and enhanced code that
 * describe them so that the queue can write events and DSNs from one shape.
 *
 * `DeliveryError` is the protocol's `SmtpError` (a 4yz/5yz reply) plus what the client knows:
 * the stage, who decided, and what the queue should do.
 */
import { replyText, SmtpError, type SmtpReply } from '@mta/smtp-protocol';

/** What the queue does with a recipient (DESIGN.md "A message's life", step 4). */
export type OutcomeKind = 'delivered' | 'deferred' | 'failed';

/** Where the code came from: the peer's reply, or synthesised by this client. */
export type ReplySource = 'remote' | 'local';

/** Session stage at which something went wrong. */
export type SessionStage =
  | 'connect'
  | 'greeting'
  | 'helo'
  | 'starttls'
  | 'auth'
  | 'rset'
  | 'mail'
  | 'rcpt'
  | 'data'
  | 'end-of-data'
  | 'quit';

/** 2xx delivered; 4xx deferred; 5xx failed (DESIGN.md). */
export function kindOfCode(code: number): OutcomeKind {
  if (code >= 200 && code < 400) return 'delivered';
  return code >= 500 ? 'failed' : 'deferred';
}

export interface DeliveryErrorInit {
  /** 4yz or 5yz. */
  readonly code: number;
  /** Its class must be the code's first digit (RFC 3463 §2). */
  readonly enhanced?: string;
  /** One line; control characters (a peer may send any) become spaces. */
  readonly text: string;
  readonly stage: SessionStage;
  readonly source: ReplySource;
  /** Defaults to the kind implied by the code. */
  readonly kind?: OutcomeKind;
  readonly cause?: unknown;
}

/**
 * Why a host or a message could not be served. `code`, `enhanced`, `text` and `permanent` come
 * from `SmtpError` (the reply, on one line); `kind` is what the queue does, which may differ from
 * the code's class (an AUTH 535 is deferred: our configuration is wrong, not the message).
 * Its `message` is `code enhanced text`.
 */
export class DeliveryError extends SmtpError {
  readonly stage: SessionStage;
  readonly source: ReplySource;
  readonly kind: OutcomeKind;

  constructor(init: DeliveryErrorInit) {
    super(init.code, init.enhanced, printable(init.text), { cause: init.cause });
    this.name = 'DeliveryError';
    this.message = [String(this.code), this.enhanced, this.text].filter((p) => p).join(' ');
    this.stage = init.stage;
    this.source = init.source;
    this.kind = init.kind ?? kindOfCode(init.code);
  }

  /**
   * The peer refused something (a 4yz or 5yz reply). A positive reply where a refusal was
   * expected (a greeting of 250, a 334 after the last AUTH step) is not a verdict: the session is
   * out of step, a local temporary failure (X.5.0 "Other or undefined protocol status").
   */
  static refused(stage: SessionStage, reply: SmtpReply, kind?: OutcomeKind): DeliveryError {
    const text = replyText(reply);
    if (reply.code < 400)
      return DeliveryError.local(stage, '4.5.0', `unexpected reply ${reply.code} ${text}`);
    return new DeliveryError({
      code: reply.code,
      enhanced: reply.enhanced,
      text: text || [String(reply.code), reply.enhanced].filter((p) => p).join(' '),
      stage,
      source: 'remote',
      kind,
    });
  }

  /**
   * A local, temporary condition (RFC 3463 §3.5 X.4.x network/routing, X.7.x security):
   * timeouts, lost connections, TLS failures. Always deferred.
   */
  static local(stage: SessionStage, enhanced: string, text: string, cause?: unknown): DeliveryError {
    return new DeliveryError({ code: 421, enhanced, text, stage, source: 'local', kind: 'deferred', cause });
  }

  /** A local, permanent verdict about the message (SIZE, SMTPUTF8, 8BITMIME...). */
  static permanent(stage: SessionStage, code: number, enhanced: string, text: string): DeliveryError {
    return new DeliveryError({ code, enhanced, text, stage, source: 'local', kind: 'failed' });
  }
}

/** Reply text must not hold control characters (RFC 5321 §4.2); a peer's or an OS error's may. */
function printable(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    out += c < 0x20 || c === 0x7f ? ' ' : ch;
  }
  return out;
}
