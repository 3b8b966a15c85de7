/**
 * The typed SMTP commands the parser produces (RFC 5321 §4.1.1 and the extensions we implement).
 */
import type { Address } from './address';

/** BODY= of RFC 6152 (8BITMIME) and RFC 3030 (BINARYMIME). */
export type BodyType = '7BIT' | '8BITMIME' | 'BINARYMIME';

/** NOTIFY= of RFC 3461 §4.1: `NEVER` alone, or a set of the others. */
export type NotifyCondition = 'NEVER' | 'SUCCESS' | 'FAILURE' | 'DELAY';

/** ORCPT= of RFC 3461 §4.2: `addr-type ";" xtext`. */
export interface OriginalRecipient {
  /** Address type, upper-cased (e.g. `RFC822`, `UTF-8`). */
  readonly type: string;
  /** The decoded xtext (the original address). */
  readonly address: string;
  /** The parameter value as received (for relaying unchanged, RFC 3461 §4.2). */
  readonly raw: string;
}

/** MAIL FROM parameters (RFC 1869 §4, each keyword at most once). */
export interface MailParams {
  /** SIZE= declared message size in octets (RFC 1870 §3). */
  readonly size?: number;
  /** BODY= (RFC 6152 §2, RFC 3030 §3). */
  readonly body?: BodyType;
  /** SMTPUTF8 given (RFC 6531 §3.4). */
  readonly smtpUtf8: boolean;
  /** RET= (RFC 3461 §4.3). */
  readonly ret?: 'FULL' | 'HDRS';
  /** ENVID=, xtext-decoded (RFC 3461 §4.4). */
  readonly envid?: string;
  /** REQUIRETLS given (RFC 8689 §4.1). */
  readonly requireTls: boolean;
  /** AUTH= (RFC 4954 §5): the mailbox, null for `<>`, undefined when absent. */
  readonly auth?: Address | null;
}

/** RCPT TO parameters (RFC 3461 §4.1, §4.2). */
export interface RcptParams {
  readonly notify?: readonly NotifyCondition[];
  readonly orcpt?: OriginalRecipient;
}

export interface HeloCommand {
  readonly verb: 'HELO' | 'EHLO';
  /** The client's argument as given (trimmed). */
  readonly domain: string;
  /** Whether `domain` is a valid `Domain / address-literal` (RFC 5321 §4.1.1.1); policy decides. */
  readonly domainValid: boolean;
}

export interface MailCommand {
  readonly verb: 'MAIL';
  /** The sender; null for the null reverse-path `<>` (bounces, RFC 5321 §4.5.5). */
  readonly from: Address | null;
  readonly params: MailParams;
}

export interface RcptCommand {
  readonly verb: 'RCPT';
  readonly to: Address;
  /**
   * True for `<postmaster>` (any case; then `to.domain` is `''`) and `<postmaster@domain>`: the
   * server must accept it for its own domains (RFC 5321 §4.5.1).
   */
  readonly postmaster: boolean;
  readonly params: RcptParams;
}

export interface BdatCommand {
  readonly verb: 'BDAT';
  /** Octets that follow the command line (RFC 3030 §2). */
  readonly size: number;
  readonly last: boolean;
}

export interface AuthCommand {
  readonly verb: 'AUTH';
  /** Upper-cased mechanism name. */
  readonly mechanism: string;
  /** Initial response as sent (base64, or `=` for an empty one; RFC 4954 §4). */
  readonly initialResponse?: string;
}

export interface TextArgCommand {
  readonly verb: 'VRFY' | 'HELP' | 'NOOP';
  /** The argument, if any (VRFY always has one). */
  readonly argument?: string;
}

export interface BareCommand {
  readonly verb: 'DATA' | 'RSET' | 'QUIT' | 'STARTTLS';
}

export type SmtpCommand =
  HeloCommand | MailCommand | RcptCommand | BdatCommand | AuthCommand | TextArgCommand | BareCommand;

export type SmtpVerb = SmtpCommand['verb'];
