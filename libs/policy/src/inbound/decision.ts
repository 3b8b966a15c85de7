/**
 * What to do with a message given its verdict (RFC 7489 §6.6.2 step 6, §6.7): the DMARC policy
 * of the author domain, sampled by `pct`, overridden by a trusted ARC sealer or by the
 * operator, and deferred when a DNS error may have hidden a pass.
 */
import type { AuthVerdict, PolicyDecision } from './verdict';

export interface DecisionOptions {
  /**
   * Whether DMARC is enforced for this message: false when a recipient domain turned
   * enforcement off (the message is then accepted and only tagged).
   */
  enforce: boolean;
  /** domains whose ARC seal we trust to override a DMARC failure (RFC 8617 §7.2) */
  trustedSealers: readonly string[];
  /** [0, 1) source for `pct` sampling (RFC 7489 §6.6.4); Math.random by default */
  random?: () => number;
}

/** RFC 7489 §6.6.4: a message not sampled by pct gets the next less strict policy. */
const LOWER: Record<string, string> = { reject: 'quarantine', quarantine: 'none', none: 'none' };

const accept = (reason: string, appliedPolicy: string | null = null): PolicyDecision => ({
  action: 'accept',
  reply: null,
  reason,
  appliedPolicy,
});

export function decide(verdict: AuthVerdict, options: DecisionOptions): PolicyDecision {
  const dmarc = verdict.dmarc;
  if (!dmarc || dmarc.result === 'none') return accept('no DMARC policy');
  if (dmarc.result === 'pass') return accept('DMARC pass');
  if (dmarc.result === 'temperror') {
    // RFC 7489 §6.6.3 leaves DNS errors during policy discovery to the receiver: the domain may
    // well publish p=reject, so we ask the sender to retry rather than deliver unchecked mail.
    if (!options.enforce) return accept('DMARC temperror, enforcement off for the recipient domain');
    return defer(`temporary DNS failure while checking DMARC for ${dmarc.fromDomain ?? 'the From domain'}`);
  }
  if (dmarc.result !== 'fail') return accept(`DMARC ${dmarc.result}`);

  const policy = sampled(dmarc.policy ?? 'none', dmarc.pct, options.random ?? Math.random);
  const sealer = verdict.arc.sealer?.toLowerCase();
  if (verdict.arc.result === 'pass' && sealer && trusted(sealer, options.trustedSealers)) {
    // RFC 8617 §7.2 and RFC 7489 §6.7: a local policy may accept a DMARC failure whose
    // authentication results were vouched for by a trusted intermediary (a mailing list).
    return accept(`DMARC fail overridden by the ARC seal of trusted ${sealer}`, policy);
  }
  if (policy === 'none') return accept('DMARC fail, policy none', policy);
  if (!options.enforce)
    return accept(`DMARC fail (p=${policy}), enforcement off for the recipient domain`, policy);
  if (policy === 'quarantine') {
    return {
      action: 'quarantine',
      reply: null,
      reason: 'DMARC fail, policy quarantine',
      appliedPolicy: policy,
    };
  }
  if (hadTemporaryError(verdict)) {
    // RFC 7208 §8.6 / RFC 6376 §6.1.2: a temperror is transient; the aligned pass that DMARC
    // lacks may appear on retry, so a 4xx (RFC 7208 §8.6 suggests 451) rather than a 550.
    return defer(`temporary DNS failure while authenticating ${dmarc.fromDomain ?? 'the sender'}`);
  }
  const domain = dmarc.fromDomain ?? 'the From domain';
  return {
    action: 'reject',
    // RFC 7489 §6.7 / §10.3 (rejection at SMTP): 550 5.7.1 naming the reason.
    reply: {
      code: 550,
      enhanced: '5.7.1',
      text: `Message rejected: DMARC policy of ${domain} is reject and the message failed SPF and DKIM alignment`,
    },
    reason: 'DMARC fail, policy reject',
    appliedPolicy: policy,
  };
}

function defer(text: string): PolicyDecision {
  return {
    action: 'defer',
    reply: { code: 451, enhanced: '4.7.0', text: `${text}, please try again later` },
    reason: text,
    appliedPolicy: null,
  };
}

function sampled(policy: string, pct: number | null, random: () => number): string {
  if (pct === null || pct >= 100) return policy;
  return random() * 100 < pct ? policy : (LOWER[policy] ?? policy);
}

function trusted(sealer: string, list: readonly string[]): boolean {
  return list.some((d) => d.toLowerCase() === sealer);
}

function hadTemporaryError(verdict: AuthVerdict): boolean {
  const spf = verdict.spf.mailfrom ?? verdict.spf.helo;
  return spf?.result === 'temperror' || verdict.dkim.some((d) => d.result === 'temperror');
}
