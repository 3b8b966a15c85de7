/**
 * Which SMTP service extensions a server offers, which of them apply at a given point of the
 * session, and the EHLO reply that advertises them (RFC 5321 §4.1.1.1, RFC 1869 §4.3).
 */
import { smtpReply, type SmtpReply } from './reply';

/** What the server is configured to offer. Everything is off unless set. */
export interface ServerCapabilities {
  /** PIPELINING (RFC 2920). */
  readonly pipelining?: boolean;
  /** SIZE (RFC 1870): the fixed limit in octets, 0 for "no fixed limit"; unset: not advertised. */
  readonly maxMessageSize?: number;
  /** 8BITMIME (RFC 6152). */
  readonly eightBitMime?: boolean;
  /** SMTPUTF8 (RFC 6531). */
  readonly smtpUtf8?: boolean;
  /** ENHANCEDSTATUSCODES (RFC 2034). */
  readonly enhancedStatusCodes?: boolean;
  /** STARTTLS (RFC 3207): TLS is available; advertised until it is in use. */
  readonly startTls?: boolean;
  /** AUTH mechanisms (RFC 4954), e.g. `['PLAIN', 'LOGIN']`; none: AUTH is not offered. */
  readonly authMechanisms?: readonly string[];
  /** Offer AUTH before TLS is up (default false: AUTH only after TLS). */
  readonly authWithoutTls?: boolean;
  /** DSN (RFC 3461): RET, ENVID, NOTIFY, ORCPT. */
  readonly dsn?: boolean;
  /** CHUNKING (RFC 3030): BDAT. */
  readonly chunking?: boolean;
  /** BINARYMIME (RFC 3030); needs CHUNKING. */
  readonly binaryMime?: boolean;
  /** REQUIRETLS (RFC 8689); only advertised once TLS is up (RFC 8689 §4.1). */
  readonly requireTls?: boolean;
}

/** The extensions that apply right now: what EHLO advertised and what the parser accepts. */
export interface ActiveExtensions {
  readonly pipelining: boolean;
  /** SIZE limit (0 = no fixed limit), or null when SIZE is not offered. */
  readonly size: number | null;
  readonly eightBitMime: boolean;
  readonly smtpUtf8: boolean;
  readonly enhancedStatusCodes: boolean;
  readonly startTls: boolean;
  /** Upper-case mechanism names; empty when AUTH is not available. */
  readonly auth: readonly string[];
  readonly dsn: boolean;
  readonly chunking: boolean;
  readonly binaryMime: boolean;
  readonly requireTls: boolean;
}

/** Every extension on, SIZE without limit, AUTH PLAIN LOGIN: the parser's default. */
export const ALL_EXTENSIONS: ActiveExtensions = Object.freeze({
  pipelining: true,
  size: 0,
  eightBitMime: true,
  smtpUtf8: true,
  enhancedStatusCodes: true,
  startTls: true,
  auth: Object.freeze(['PLAIN', 'LOGIN']),
  dsn: true,
  chunking: true,
  binaryMime: true,
  requireTls: true,
});

/** No extension: the state after HELO (RFC 5321 §4.1.1.1) or before any greeting. */
export const NO_EXTENSIONS: ActiveExtensions = Object.freeze({
  pipelining: false,
  size: null,
  eightBitMime: false,
  smtpUtf8: false,
  enhancedStatusCodes: false,
  startTls: false,
  auth: Object.freeze([]),
  dsn: false,
  chunking: false,
  binaryMime: false,
  requireTls: false,
});

/** Where the session is, as far as advertising is concerned. */
export interface ExtensionContext {
  readonly tls: boolean;
  readonly authenticated: boolean;
}

/** The extensions that apply to a session in this context. */
export function activeExtensions(caps: ServerCapabilities, ctx: ExtensionContext): ActiveExtensions {
  const mechanisms = caps.authMechanisms ?? [];
  const authOffered = mechanisms.length > 0 && (ctx.tls || caps.authWithoutTls === true);
  return {
    pipelining: caps.pipelining === true,
    size: caps.maxMessageSize ?? null,
    eightBitMime: caps.eightBitMime === true,
    smtpUtf8: caps.smtpUtf8 === true,
    enhancedStatusCodes: caps.enhancedStatusCodes === true,
    // RFC 3207 §4.2: STARTTLS is not advertised once TLS is active.
    startTls: caps.startTls === true && !ctx.tls,
    // RFC 4954 §4: AUTH is refused once authenticated, so it is no longer advertised.
    auth: authOffered && !ctx.authenticated ? mechanisms.map((m) => m.toUpperCase()) : [],
    dsn: caps.dsn === true,
    chunking: caps.chunking === true,
    binaryMime: caps.binaryMime === true && caps.chunking === true,
    // RFC 8689 §4.1: REQUIRETLS is only offered over TLS.
    requireTls: caps.requireTls === true && ctx.tls,
  };
}

/** The EHLO keywords to advertise, in a stable order. */
export function ehloKeywords(ext: ActiveExtensions): string[] {
  const out: string[] = [];
  if (ext.pipelining) out.push('PIPELINING');
  if (ext.size !== null) out.push(`SIZE ${ext.size}`);
  if (ext.eightBitMime) out.push('8BITMIME');
  if (ext.smtpUtf8) out.push('SMTPUTF8');
  if (ext.enhancedStatusCodes) out.push('ENHANCEDSTATUSCODES');
  if (ext.startTls) out.push('STARTTLS');
  if (ext.auth.length > 0) out.push(`AUTH ${ext.auth.join(' ')}`);
  if (ext.dsn) out.push('DSN');
  if (ext.chunking) out.push('CHUNKING');
  if (ext.binaryMime) out.push('BINARYMIME');
  if (ext.requireTls) out.push('REQUIRETLS');
  return out;
}

/**
 * The 250 reply to EHLO: `250-host greeting` then one keyword per line (RFC 5321 §4.1.1.1).
 * No enhanced codes: the EHLO reply lines are keywords (RFC 2034 §3).
 */
export function ehloReply(hostname: string, ext: ActiveExtensions, greeting?: string): SmtpReply {
  const first = greeting ? `${hostname} ${greeting}` : hostname;
  return smtpReply(250, undefined, [first, ...ehloKeywords(ext)]);
}

/** The 250 reply to HELO (no extensions, RFC 5321 §4.1.1.1). */
export function heloReply(hostname: string, greeting?: string): SmtpReply {
  return smtpReply(250, undefined, greeting ? `${hostname} ${greeting}` : hostname);
}
