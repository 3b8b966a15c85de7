/**
 * The MTA-STS policy we publish for the domains we host (RFC 8461 §3.2), and its id (§3.1).
 * The policy file is built from the domain's settings (mode, the MX host names it allows); the
 * id is a hash of that text, so it changes exactly when the policy does, and senders that
 * cached the old one fetch it again (§3.3).
 */
import { createHash } from 'node:crypto';

export type MtaStsMode = 'none' | 'testing' | 'enforce';

export interface PublishedPolicyInput {
  readonly mode: MtaStsMode;
  /** MX host names (or `*.` patterns) mail may go to; ours (`MTA_HOSTNAME`) first. */
  readonly mx: readonly string[];
}

/**
 * `max_age`: a day while testing or winding down (a change reaches senders soon), a week when
 * enforced (§3.2 recommends weeks: a long life is what protects the first contact after it).
 */
export function publishedMaxAge(mode: MtaStsMode): number {
  return mode === 'enforce' ? 604_800 : 86_400;
}

/** The policy file, CRLF line ends (§3.2 allows LF or CRLF). `none` lists no MX (§8.3 removal). */
export function mtaStsPolicyText(input: PublishedPolicyInput): string {
  const mx = input.mode === 'none' ? [] : [...new Set(input.mx.map((m) => m.toLowerCase()))];
  return [
    'version: STSv1',
    `mode: ${input.mode}`,
    ...mx.map((m) => `mx: ${m}`),
    `max_age: ${publishedMaxAge(input.mode)}`,
    '',
  ].join('\r\n');
}

/** The TXT record's `id` (1-32 letters and digits, §3.1): the first 20 hex digits of SHA-256. */
export function mtaStsPolicyId(policyText: string): string {
  return createHash('sha256').update(policyText).digest('hex').slice(0, 20);
}
