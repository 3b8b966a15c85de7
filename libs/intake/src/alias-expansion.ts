import { SmtpError } from '@mta/smtp-protocol';
import type { Directory } from './directory';
import { userUnknown, type ResolvedRecipient } from './recipient-resolver';

export interface ExpansionLimits {
  /** Alias levels followed at most: the alias given is level 1. */
  maxAliasDepth: number;
  /** Recipients one alias may expand to at most. */
  maxRecipients: number;
}

/**
 * The recipients an alias stands for, as Postfix's virtual_alias_maps expand them: each target
 * in order, an alias among them expanded in turn, duplicates kept once (the first), each with
 * `via` set to the address the client gave (its ORCPT, RFC 3461 §4.2).
 *
 * - A target in a domain we do not host (or relay for) is forwarded there.
 * - A target in a local domain is an account (matched without regard to case, like every local
 *   part of ours), another alias, `postmaster`, or anything in an accept-all domain; any other
 *   target leads nowhere and is left out (the API lets an alias name an address before it exists).
 * - An alias met again on its own path is a loop, and more than `maxAliasDepth` levels is taken
 *   as one: 550 5.4.6 (RFC 3463 "routing loop detected"), at RCPT, so the sender learns now and
 *   nothing is queued. More than `maxRecipients` recipients: 550 5.5.3 (too many recipients).
 * - An alias that leads nowhere (all targets unknown or disabled) is 550 5.1.1, as an unknown user.
 */
export async function expandAlias(
  directory: Directory,
  alias: string,
  targets: readonly string[],
  given: string,
  limits: ExpansionLimits,
): Promise<ResolvedRecipient[]> {
  const found = new Map<string, ResolvedRecipient>();

  const visit = async (targets: readonly string[], path: readonly string[]): Promise<void> => {
    if (path.length > limits.maxAliasDepth)
      throw aliasLoop(given, `nested deeper than ${limits.maxAliasDepth} aliases (${path.join(' -> ')})`);
    for (const target of targets) {
      const at = target.lastIndexOf('@');
      const local = target.slice(0, at);
      const domain = target.slice(at + 1).toLowerCase();
      const hosted = await directory.domain(domain);
      if (!hosted || hosted.type === 'relay') {
        const address = `${local}@${domain}`;
        add(found, { address, domain, route: hosted ? 'relay' : 'remote', via: given }, limits, given);
        continue;
      }
      const key = `${local.toLowerCase()}@${domain}`;
      if (path.includes(key)) throw aliasLoop(given, `alias loop (${[...path, key].join(' -> ')})`);
      const mailbox = await directory.mailbox(key);
      if (mailbox?.kind === 'alias') await visit(mailbox.targets, [...path, key]);
      else if (mailbox || local.toLowerCase() === 'postmaster' || hosted.acceptAll)
        add(found, { address: key, domain, route: 'local', via: given }, limits, given);
    }
  };

  await visit(targets, [alias]);
  if (found.size === 0) throw userUnknown(given);
  return [...found.values()];
}

function add(
  found: Map<string, ResolvedRecipient>,
  recipient: ResolvedRecipient,
  limits: ExpansionLimits,
  given: string,
): void {
  // Our mailboxes are one whatever the case; an outside local part is kept as it is (RFC 5321 §2.4).
  const key = recipient.route === 'local' ? recipient.address.toLowerCase() : recipient.address;
  if (found.has(key)) return;
  if (found.size >= limits.maxRecipients)
    throw new SmtpError(
      550,
      '5.5.3',
      `<${given}>: Recipient address rejected: alias expands to more than ${limits.maxRecipients} recipients`,
    );
  found.set(key, recipient);
}

function aliasLoop(given: string, why: string): SmtpError {
  return new SmtpError(550, '5.4.6', `<${given}>: Recipient address rejected: ${why}`);
}
