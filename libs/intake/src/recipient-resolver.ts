import type { RecipientRoute } from '@mta/db';
import type { Srs } from '@mta/mail';
import { SmtpError, domainLower, localPartValue, type Address } from '@mta/smtp-protocol';
import { expandAlias } from './alias-expansion';
import type { Directory } from './directory';

/** Where an accepted recipient goes: a mailbox we host, a domain we relay for, or the internet. */
export type { RecipientRoute };

export interface ResolvedRecipient {
  /** The address as stored: the domain lower-cased, the local part as written. */
  address: string;
  domain: string;
  route: RecipientRoute;
  /** The recipient domain's `dmarc_enforce` (an alias's: its own domain's); absent for domains we do not host (true). */
  dmarcEnforce?: boolean;
  /**
   * Reached through one of our aliases or SRS addresses (set to the address that was given):
   * the original recipient, kept as ORCPT (RFC 3461 §4.2). A non-local one is forwarded: it
   * leaves with an SRS envelope sender.
   */
  via?: string;
}

export interface ResolverOptions {
  /** The domain that a bare `<postmaster>` means (RFC 5321 §4.1.1.3): our primary domain. */
  postmasterDomain: string;
  /** Alias levels followed at most (ALIAS_MAX_DEPTH); one more is refused 550 5.4.6. Default 10. */
  maxAliasDepth?: number;
  /** Recipients one address may expand to at most (MAX_RECIPIENTS); more is refused 550 5.5.3. */
  maxRecipients?: number;
  /** Reverses our SRS addresses (SRS_SECRET set); without it they are unknown local parts. */
  srs?: Srs | null;
}

/** Characters that make a local part route somewhere else (RFC 5321 §3.6, Appendix C): refused. */
const ROUTING_CHARACTERS = /[@%!]/;

/**
 * Decides whether a recipient is acceptable, before any data is received, and what it stands for.
 *
 * - Unauthenticated (port 25): only domains we host (local) or relay for. Anything else is
 *   554 5.7.1 relay access denied, whatever the sender claims: address literals, source routes
 *   (already reduced to the final mailbox by the parser, RFC 5321 §4.1.1.3), and local parts that
 *   smuggle a route (`user%remote@local`, `"user@remote"@local`, `host!user@local`).
 * - Local domains: `postmaster` always exists (RFC 5321 §4.5.1), then accounts and aliases, then
 *   the domain's accept-all flag; otherwise 550 5.1.1. Local parts of our mailboxes are matched
 *   without regard to case (RFC 5321 §2.4 leaves that to us); the address keeps the case given.
 * - An alias resolves to its targets, recursively (alias-expansion.ts), so that the 250 is only
 *   given for an alias that leads somewhere and a loop is refused now, not bounced later.
 * - An SRS address of ours (a bounce to mail we forwarded) resolves to the original sender once
 *   its signature and age are checked; forged or expired: 550 5.1.1.
 * - Authenticated (submission): any domain; local and relay domains are still checked the same way.
 */
export class RecipientResolver {
  private readonly options: Required<ResolverOptions>;

  constructor(
    private readonly directory: Directory,
    options: ResolverOptions,
  ) {
    this.options = { maxAliasDepth: 10, maxRecipients: 1000, srs: null, ...options };
  }

  /** One or more recipients (an alias's expansion: deduplicated, in order), or an SmtpError. */
  async resolve(to: Address, options: { authenticated: boolean }): Promise<ResolvedRecipient[]> {
    // A bare <postmaster> is always accepted (RFC 5321 §4.1.1.3, §4.5.1): ours, whatever the domain.
    if (to.domain === '') {
      const domain = this.options.postmasterDomain;
      return [{ address: `postmaster@${domain}`, domain, route: 'local' }];
    }
    const domain = domainLower(to);
    const address = `${minimalLocalPart(to.local)}@${domain}`;
    const srs = this.options.srs;
    if (srs?.isSrsAddress(address)) return this.reverseSrs(srs, address);

    const hosted = domain.startsWith('[') ? null : await this.directory.domain(domain);
    if (!hosted) {
      if (options.authenticated && !domain.startsWith('[')) return [{ address, domain, route: 'remote' }];
      throw relayDenied(address);
    }
    const local = localPartValue(to.local);
    if (ROUTING_CHARACTERS.test(local)) throw relayDenied(address);
    const dmarcEnforce = hosted.dmarcEnforce;
    if (hosted.type === 'relay') return [{ address, domain, route: 'relay', dmarcEnforce }];

    const key = `${local.toLowerCase()}@${domain}`;
    const mailbox = await this.directory.mailbox(key);
    if (mailbox?.kind === 'alias') {
      const expanded = await expandAlias(this.directory, key, mailbox.targets, address, this.options);
      return expanded.map((r) => ({ ...r, dmarcEnforce }));
    }
    if (mailbox || local.toLowerCase() === 'postmaster' || hosted.acceptAll)
      return [{ address, domain, route: 'local', dmarcEnforce }];
    throw userUnknown(address);
  }

  /**
   * A bounce (or reply) to mail we forwarded: back to the original sender (RFC 7208 §1.2.3 is why
   * the address exists). Forged and expired addresses are refused like an unknown user: 550 5.1.1.
   */
  private async reverseSrs(srs: Srs, address: string): Promise<ResolvedRecipient[]> {
    const reversed = srs.reverse(address);
    if (!reversed.ok) {
      const why = reversed.error === 'expired' ? 'expired SRS address' : 'invalid SRS signature';
      throw new SmtpError(550, '5.1.1', `<${address}>: Recipient address rejected: ${why}`);
    }
    const at = reversed.address.lastIndexOf('@');
    const domain = reversed.address.slice(at + 1).toLowerCase();
    const original = `${reversed.address.slice(0, at)}@${domain}`;
    const hosted = await this.directory.domain(domain);
    const route: RecipientRoute = hosted?.type === 'local' ? 'local' : hosted ? 'relay' : 'remote';
    return [{ address: original, domain, route, via: address }];
  }
}

export function userUnknown(address: string): SmtpError {
  return new SmtpError(
    550,
    '5.1.1',
    `<${address}>: Recipient address rejected: User unknown in local recipient table`,
  );
}

function relayDenied(address: string): SmtpError {
  return new SmtpError(554, '5.7.1', `<${address}>: Relay access denied`);
}

/** A dot-string (RFC 5321 §4.1.2): atoms of atext (RFC 5322 §3.2.3; UTF-8 too, RFC 6531 §3.3). */
const ATOM = "[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~\\u0080-\\u{10FFFF}]+";
const DOT_STRING = new RegExp(`^${ATOM}(?:\\.${ATOM})*$`, 'u');

/**
 * The local part with the least quoting (RFC 5321 §4.1.2: a quoted string that is also a
 * dot-string names the same mailbox, and the unquoted form SHOULD be used): `"alice"` → `alice`,
 * so that one mailbox written both ways is one recipient (§3.3), stored once.
 */
function minimalLocalPart(local: string): string {
  const value = localPartValue(local);
  return local.startsWith('"') && DOT_STRING.test(value) ? value : local;
}
