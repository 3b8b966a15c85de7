/**
 * The `Received:` trace field an SMTP server prepends to every message it accepts.
 *
 * RFC 5321 §4.4:
 *   Stamp           = From-domain By-domain Opt-info [CFWS] ";" FWS date-time
 *   From-domain     = "FROM" FWS Extended-Domain
 *   Extended-Domain = Domain / ( Domain FWS "(" TCP-info ")" ) / ( address-literal FWS "(" TCP-info ")" )
 *   TCP-info        = address-literal / ( Domain FWS address-literal )
 *   Opt-info        = [Via] [With] [ID] [For] [Additional-Registered-Clauses]
 *   With            = CFWS "WITH" FWS Protocol      ID = CFWS "ID" FWS ( Atom / msg-id )
 *   For             = CFWS "FOR" FWS ( Path / Mailbox )
 * §4.4 also: "for" names one recipient only; with several, leave it out (a privacy matter, §7.2).
 * With-protocol values: RFC 3848 §2 (ESMTPA, ESMTPS, ESMTPSA) and RFC 6531 §3.7.3 (UTF8SMTP,
 * UTF8SMTPA, UTF8SMTPS, UTF8SMTPSA).
 *
 * The shape follows Postfix's, which operators know how to read:
 *   Received: from mail.example.com (mail.example.com [192.0.2.1])
 *    (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)
 *    by mx.example.org (mta) with ESMTPS id 01JD5X
 *    for <bob@example.org>; Thu, 26 Nov 2026 16:00:00 +0000
 * For submission the client's part can be hidden (`hideClient`): RFC 5322 §3.6.7 allows a trace
 * field made of `by` alone, and users often do not want their home IP in every message they send.
 */
import { formatDate } from './date';
import { foldHeader } from './fold';

export interface ReceivedProtocol {
  /** The client said EHLO (not HELO). */
  readonly esmtp: boolean;
  /** The session was TLS (STARTTLS or implicit TLS). */
  readonly tls: boolean;
  /** The client authenticated (SMTP AUTH). */
  readonly auth: boolean;
  /** The transaction used SMTPUTF8 (RFC 6531). */
  readonly smtpUtf8?: boolean;
}

export interface ReceivedTls {
  /** e.g. `TLSv1.3` (Node: `socket.getProtocol()`). */
  readonly protocol: string;
  /** e.g. `TLS_AES_256_GCM_SHA384` (Node: `socket.getCipher().standardName`). */
  readonly cipher: string;
  /** Secret key bits, written `(256/256 bits)` when given. */
  readonly bits?: number;
}

export interface ReceivedOptions {
  /** The client's EHLO/HELO argument as given (cleaned of anything that would break the field). */
  readonly helo?: string;
  /** The client's host name if its reverse DNS was verified (forward-confirmed); else `unknown`. */
  readonly clientHostname?: string;
  /** The client's IP address (`192.0.2.1`, `2001:db8::1`; IPv4-mapped IPv6 is shown as IPv4). */
  readonly clientIp?: string;
  /** Leave out the `from` clause (the client's name and address), e.g. for submission. */
  readonly hideClient?: boolean;
  /** Our host name. */
  readonly by: string;
  /** The product name written as a comment after ours, e.g. `mta` → `by mx.example.org (mta)`. */
  readonly product?: string;
  readonly protocol: ReceivedProtocol;
  /** TLS facts, written as a comment like Postfix: `(using TLSv1.3 with cipher ...)`. */
  readonly tls?: ReceivedTls;
  /**
   * The authenticated user to show, `(Authenticated sender: alice)`. Only when the operator turned
   * it on; the caller decides. (A password never reaches this function.)
   */
  readonly authenticatedUser?: string;
  /** The queue id. */
  readonly id: string;
  /** The envelope recipients; `for <...>` is written only when there is exactly one. */
  readonly recipients?: readonly string[];
  readonly date?: Date;
}

/** The `with` protocol keyword: SMTP, ESMTP[S][A] (RFC 3848) or UTF8SMTP[S][A] (RFC 6531 §3.7.3). */
export function receivedProtocol(p: ReceivedProtocol): string {
  if (p.smtpUtf8) return `UTF8SMTP${p.tls ? 'S' : ''}${p.auth ? 'A' : ''}`;
  if (!p.esmtp) return 'SMTP';
  return `ESMTP${p.tls ? 'S' : ''}${p.auth ? 'A' : ''}`;
}

/** Replace what could break out of the field or a comment: controls, parentheses, `;`, `\`, quotes, `<>`. */
export function traceSafe(text: string): string {
  return text.replace(/[\p{Cc} ()\\;"<>]/gu, '?');
}

/**
 * A name from the client (HELO, reverse DNS) as written in the field: trace-safe and no longer than
 * a domain can be (RFC 1035 §2.3.4), so that one word never makes a line pass 998 characters
 * (RFC 5322 §2.1.1). The SMTP server refuses longer HELO names; this holds for any caller.
 */
function clientName(text: string): string {
  const safe = traceSafe(text);
  return safe.length > MAX_NAME ? `${safe.slice(0, MAX_NAME - 3)}...` : safe;
}
const MAX_NAME = 255;

/** The address literal of RFC 5321 §4.1.3: `[192.0.2.1]`, `[IPv6:2001:db8::1]`. */
export function addressLiteral(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const addr = mapped ? mapped[1] : ip;
  return addr.includes(':') ? `[IPv6:${traceSafe(addr)}]` : `[${traceSafe(addr)}]`;
}

/** The whole `Received:` field, folded at 78 characters, ending in CRLF. */
export function buildReceived(o: ReceivedOptions): string {
  const segments: string[] = [];
  const showClient = !o.hideClient && (o.helo !== undefined || o.clientIp !== undefined);
  const tlsComment = o.tls
    ? `(using ${traceSafe(o.tls.protocol)} with cipher ${traceSafe(o.tls.cipher)}` +
      (o.tls.bits !== undefined ? ` (${o.tls.bits}/${o.tls.bits} bits))` : ')')
    : undefined;
  const authComment =
    o.authenticatedUser !== undefined
      ? `(Authenticated sender: ${clientName(o.authenticatedUser)})`
      : undefined;
  const by = `by ${traceSafe(o.by)}${o.product ? ` (${traceSafe(o.product)})` : ''}`;
  let opt = `with ${receivedProtocol(o.protocol)} id ${traceSafe(o.id)}`;
  if (o.recipients?.length === 1) opt += ` for <${o.recipients[0].replace(/[\p{Cc}<>]/gu, '?')}>`;
  opt += ';';
  const comments = [tlsComment, authComment].filter((c): c is string => c !== undefined);
  if (showClient) {
    const literal = o.clientIp !== undefined ? addressLiteral(o.clientIp) : undefined;
    const helo =
      o.helo !== undefined && o.helo.trim() !== '' ? clientName(o.helo.trim()) : (literal ?? 'unknown');
    const rdns = o.clientHostname ? clientName(o.clientHostname) : 'unknown';
    segments.push(literal ? `from ${helo} (${rdns} ${literal})` : `from ${helo}`, ...comments);
    // "by ... with ... id ... for ...;" is one segment: it stays on one line when it fits.
    segments.push(`${by} ${opt}`);
  } else {
    segments.push(by, ...comments, opt);
  }
  segments.push(formatDate(o.date ?? new Date()));
  return foldHeader('Received', segments);
}
