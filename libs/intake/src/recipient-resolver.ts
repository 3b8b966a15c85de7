import { SmtpError, domainLower, localPartValue, type Address } from '@mta/smtp-protocol';
import type { Directory } from './directory';

/** Where an accepted recipient goes: a mailbox we host, a domain we relay for, or the internet. */
export type RecipientRoute = 'local' | 'relay' | 'remote';

export interface ResolvedRecipient {
  /** The address as stored: the domain lower-cased, the local part as written. */
  address: string;
  domain: string;
  route: RecipientRoute;
  /** The recipient domain's `dmarc_enforce`; absent for domains we do not host (true). */
  dmarcEnforce?: boolean;
}

/** Characters that make a local part route somewhere else (RFC 5321 §3.6, Appendix C): refused. */
const ROUTING_CHARACTERS = /[@%!]/;

/**
 * Decides whether a recipient is acceptable, before any data is received.
 *
 * - Unauthenticated (port 25): only domains we host (local) or relay for. Anything else is
 *   554 5.7.1 relay access denied, whatever the sender claims: address literals, source routes
 *   (already reduced to the final mailbox by the parser, RFC 5321 §4.1.1.3), and local parts that
 *   smuggle a route (`user%remote@local`, `"user@remote"@local`, `host!user@local`).
 * - Local domains: `postmaster` always exists (RFC 5321 §4.5.1), then accounts and aliases, then
 *   the domain's accept-all flag; otherwise 550 5.1.1.
 * - Authenticated (submission): any domain; local and relay domains are still checked the same way.
 */
export class RecipientResolver {
  constructor(
    private readonly directory: Directory,
    /** The domain that a bare `<postmaster>` means (RFC 5321 §4.1.1.3): our primary domain. */
    private readonly postmasterDomain: string,
  ) {}

  async resolve(to: Address, options: { authenticated: boolean }): Promise<ResolvedRecipient> {
    // A bare <postmaster> is always accepted (RFC 5321 §4.1.1.3, §4.5.1): ours, whatever the domain.
    if (to.domain === '')
      return {
        address: `postmaster@${this.postmasterDomain}`,
        domain: this.postmasterDomain,
        route: 'local',
      };
    const domain = domainLower(to);
    const local = to.local;
    const address = `${local}@${domain}`;
    const hosted = domain.startsWith('[') ? null : await this.directory.domain(domain);

    if (!hosted) {
      if (options.authenticated && !domain.startsWith('[')) return { address, domain, route: 'remote' };
      throw relayDenied(address);
    }
    if (ROUTING_CHARACTERS.test(localPartValue(local))) throw relayDenied(address);
    const dmarcEnforce = hosted.dmarcEnforce;
    if (hosted.type === 'relay') return { address, domain, route: 'relay', dmarcEnforce };

    const mailbox = localPartValue(local).toLowerCase();
    if (
      mailbox === 'postmaster' ||
      hosted.acceptAll ||
      (await this.directory.mailboxExists(`${mailbox}@${domain}`))
    ) {
      return { address, domain, route: 'local', dmarcEnforce };
    }
    throw new SmtpError(
      550,
      '5.1.1',
      `<${address}>: Recipient address rejected: User unknown in local recipient table`,
    );
  }
}

function relayDenied(address: string): SmtpError {
  return new SmtpError(554, '5.7.1', `<${address}>: Relay access denied`);
}
