import { domainToASCII } from 'node:url';
import { z } from 'zod';

/**
 * Domain names and addresses as the API stores them: domains in lower case, IDNs as A-labels
 * (`bücher.example` → `xn--bcher-kva.example`), no trailing dot; the local part of an address
 * as given (it is case-sensitive in principle, RFC 5321 §2.4), except for the addresses of our
 * own mailboxes (`MailboxAddress`).
 */
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export function normalizeDomain(input: string): string | undefined {
  const trimmed = input.trim().replace(/\.$/, '').toLowerCase();
  if (trimmed.length === 0 || trimmed.length > 253) return undefined;
  const ascii = /^[\x21-\x7e]+$/.test(trimmed) ? trimmed : domainToASCII(trimmed);
  if (!ascii || ascii.length > 253) return undefined;
  const labels = ascii.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || /^[0-9]+$/.test(labels.at(-1) ?? ''))
    return undefined;
  return ascii;
}

/** Local part: dot-atom text, UTF-8 allowed (RFC 6531); no quoted strings. */
const LOCAL_PART = /^[^\s@"<>()[\]\\,;:\p{Cc}.][^\s@"<>()[\]\\,;:\p{Cc}]{0,63}$/u;

export function normalizeAddress(input: string): string | undefined {
  const at = input.trim().lastIndexOf('@');
  if (at <= 0) return undefined;
  const local = input.trim().slice(0, at);
  const domain = normalizeDomain(input.trim().slice(at + 1));
  if (!domain || !LOCAL_PART.test(local) || local.endsWith('.') || local.includes('..')) return undefined;
  if (Buffer.byteLength(local) > 64) return undefined;
  return `${local}@${domain}`;
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

export const DomainName = z
  .string()
  .max(260)
  .transform((value, ctx) => {
    const name = normalizeDomain(value);
    if (name === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected a domain name such as example.com' });
      return z.NEVER;
    }
    return name;
  })
  .describe('A domain name, e.g. `example.com`.');

export const Address = z
  .string()
  .max(320)
  .transform((value, ctx) => {
    const address = normalizeAddress(value);
    if (address === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected an address such as alice@example.com' });
      return z.NEVER;
    }
    return address;
  })
  .describe('A mail address, e.g. `alice@example.com`.');

/**
 * The address of one of OUR mailboxes (account, alias, send-as entry): stored in lower case.
 * RFC 5321 §2.4 leaves the case of a local part to the host that owns it, and we (like every
 * mainstream MTA) treat `Alice@` and `alice@` as one mailbox: intake, login and send-as look
 * addresses up lower-cased, so they must be stored that way. Lower-casing on write keeps every
 * lookup an exact match on the unique index (the RCPT hot path), and makes two accounts that
 * differ only in case impossible.
 */
export const MailboxAddress = Address.transform((address) => address.toLowerCase()).describe(
  'A mail address of one of our mailboxes, e.g. `alice@example.com`. Matched case-insensitively and stored in lower case (`Alice@Example.com` is `alice@example.com`).',
);
