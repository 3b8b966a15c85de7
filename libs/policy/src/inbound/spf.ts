/**
 * SPF (RFC 7208) at MAIL FROM, for both identities: the MAIL FROM domain (§2.4) and the HELO
 * name (§2.3). The result is kept for DMARC, which uses the MAIL FROM identity, or the HELO
 * identity when the reverse-path is null (RFC 7489 §3.1.2, mailauth checks `postmaster@helo`).
 * SPF alone never refuses mail here: a `fail` counts through DMARC, and a `temperror` (a DNS
 * timeout, RFC 7208 §8.6) is recorded and never answered with a 5xx.
 */
import net from 'node:net';
import { spf, type DNSResolver, type SPFResult } from 'mailauth';

/** What the SMTP session knows about the client when MAIL FROM arrives. */
export interface SmtpFacts {
  clientIp: string;
  /** the EHLO/HELO argument, null when the client sent none */
  helo: string | null;
  /** the reverse-path, `''` for the null sender `<>` */
  sender: string;
}

export type SpfResultKeyword = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror';

export interface SpfCheck {
  /** the domain whose record was evaluated */
  domain: string;
  result: SpfResultKeyword;
  comment: string | null;
  /** this check's Authentication-Results resinfo (RFC 8601 §2.7.2), from mailauth */
  info: string;
}

export interface SpfVerdict {
  /** the MAIL FROM identity; null for the null sender */
  mailfrom: SpfCheck | null;
  /** the HELO identity; null when HELO is missing or an address literal (RFC 7208 §2.3) */
  helo: SpfCheck | null;
}

export interface SpfOptions {
  resolver: DNSResolver;
  /** our host name, for the comments (`MTA_HOSTNAME`) */
  hostname: string;
  /** cap on one evaluation (RFC 7208 §4.6.4 suggests at least 20 s); temperror past it */
  maxElapsedMs?: number;
}

export async function checkSpf(facts: SmtpFacts, options: SpfOptions): Promise<SpfVerdict> {
  const heloName = facts.helo && isDomainName(facts.helo) ? facts.helo : null;
  const run = (sender: string | undefined) =>
    spf({
      sender,
      ip: facts.clientIp,
      helo: facts.helo ?? undefined,
      mta: options.hostname,
      resolver: options.resolver,
      maxElapsedTime: options.maxElapsedMs ?? 20_000,
    }).then(toCheck);
  const [mailfrom, helo] = await Promise.all([
    facts.sender ? run(facts.sender) : null,
    // The null sender makes mailauth check postmaster@<helo>: the HELO identity (§2.4).
    heloName ? run(undefined) : null,
  ]);
  return { mailfrom, helo };
}

/**
 * The domain SPF authenticated, for DMARC's alignment: the MAIL FROM domain if it passed, or
 * for the null sender the HELO domain if it passed (RFC 7489 §3.1.2, §4.1).
 */
export function spfPassDomain(verdict: SpfVerdict, sender: string): string | null {
  const check = sender ? verdict.mailfrom : verdict.helo;
  return check?.result === 'pass' ? check.domain : null;
}

/** The check whose result goes into Authentication-Results: MAIL FROM, or HELO for `<>`. */
export function reportedSpf(verdict: SpfVerdict): SpfCheck | null {
  return verdict.mailfrom ?? verdict.helo;
}

function toCheck(result: SPFResult): SpfCheck {
  return {
    domain: result.domain,
    result: result.status.result as SpfResultKeyword,
    comment: result.status.comment ?? null,
    info: result.info,
  };
}

/** A name SPF can check: not an address literal, at least two labels. */
function isDomainName(helo: string): boolean {
  const name = helo.replace(/^\[|\]$/g, '');
  return !net.isIP(name) && !name.startsWith('IPv6:') && /^[^.\s]+(\.[^.\s]+)+\.?$/.test(name);
}
