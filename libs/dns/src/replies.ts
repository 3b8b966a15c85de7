/**
 * The failures of MX resolution as SMTP replies: a basic code (RFC 5321 §4.2), an enhanced
 * status code (RFC 3463) and a sentence a person can act on. The delivery agent puts them in
 * the recipient's outcome; `permanent` (5xx) fails the recipient, temporary (4xx) defers it.
 * A local shape on purpose: this library imports nothing of ours (DESIGN.md).
 */

export interface DnsReply {
  /** SMTP reply code, e.g. 550 */
  code: number;
  /** RFC 3463 enhanced status code, e.g. `5.1.2` */
  enhanced: string;
  text: string;
}

export interface MxFailure extends DnsReply {
  ok: false;
  /** true: 5xx, do not retry; false: 4xx, retry later */
  permanent: boolean;
}

const fail = (permanent: boolean, code: number, enhanced: string, text: string): MxFailure => ({
  ok: false,
  permanent,
  code,
  enhanced,
  text,
});

export const replies = {
  /** RFC 3463 X.1.2: bad destination system address (the domain does not exist). */
  nxdomain: (domain: string) => fail(true, 550, '5.1.2', `domain ${domain} does not exist (NXDOMAIN)`),
  /** RFC 3463 X.1.2 for a name that is not a valid domain at all. */
  invalidDomain: (domain: string) => fail(true, 550, '5.1.2', `"${domain}" is not a valid domain name`),
  /** RFC 7505 §3 and RFC 7504 §3: 556 5.1.10, the domain publishes a null MX. */
  nullMx: (domain: string) => fail(true, 556, '5.1.10', `domain ${domain} does not accept mail (null MX)`),
  /** RFC 3463 X.4.4: unable to route (no exchange host has an address). */
  noHosts: (domain: string) =>
    fail(true, 554, '5.4.4', `no mail exchanger of ${domain} has an IPv4 or IPv6 address we may use`),
  /** RFC 5321 §5.1 and RFC 3463 X.4.6: routing loop detected. */
  loop: (domain: string) => fail(true, 554, '5.4.6', `mail for ${domain} loops back to myself`),
  /** RFC 3463 X.4.3: directory server failure; the caller defers the recipient. */
  temporary: (domain: string, detail: string) =>
    fail(false, 451, '4.4.3', `DNS lookup failure for ${domain}, will retry: ${detail}`),
};
