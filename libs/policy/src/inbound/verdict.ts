/**
 * The verdict of the inbound checks as it is stored with the message (`messages.auth_results`)
 * and shown by the admin API: plain JSON, no mailauth objects.
 */
import type { SpfVerdict } from './spf';

export interface DkimVerdict {
  /** d= */
  domain: string | null;
  /** s= */
  selector: string | null;
  /** a=, e.g. rsa-sha256, ed25519-sha256 */
  algorithm: string | null;
  /** pass, fail, neutral, policy, temperror, permerror (RFC 8601 §2.7.1) */
  result: string;
  /** the d= that aligns with the header From (DMARC), else null */
  aligned: string | null;
  comment: string | null;
  info: string;
}

export interface ArcVerdict {
  /** none, pass or fail (RFC 8617 §4.4) */
  result: string;
  /** the highest instance (i=) */
  instance: number | null;
  /** d= of the latest ARC-Message-Signature: who sealed last */
  sealer: string | null;
  comment: string | null;
  info: string | null;
}

export interface DmarcVerdict {
  /** pass, fail, none, temperror, permerror (RFC 7489 §11.2) */
  result: string;
  /** the RFC5322.From domain */
  fromDomain: string | null;
  /** the policy that applies to this message (p, or sp/np for a subdomain; lowered by t=y) */
  policy: string | null;
  published: { p: string; sp: string; np: string | null; testing: boolean } | null;
  /** the record's pct= (RFC 7489 §6.3), null when absent (100) */
  pct: number | null;
  record: string | null;
  /** the identifiers that aligned */
  alignment: { spf: string | null; dkim: string | null } | null;
  comment: string | null;
  info: string | null;
}

export interface AuthVerdict {
  spf: SpfVerdict;
  dkim: DkimVerdict[];
  arc: ArcVerdict;
  /** null: no DMARC evaluation (no From domain) */
  dmarc: DmarcVerdict | null;
  /** the message could not be parsed for DKIM/DMARC */
  error: string | null;
}

export type PolicyAction = 'accept' | 'quarantine' | 'reject' | 'defer';

export interface PolicyDecision {
  /** accept: deliver (tagged); quarantine: deliver to Junk; reject: 550; defer: 451 */
  action: PolicyAction;
  /** the SMTP reply for reject and defer */
  reply: { code: number; enhanced: string; text: string } | null;
  /** why, in a few words (stored, logged and put in the A-R comment) */
  reason: string;
  /** the DMARC policy applied after pct sampling, when DMARC failed */
  appliedPolicy: string | null;
}

/** What is stored with the message: the checks and what we did with them. */
export interface StoredAuthResults extends AuthVerdict {
  decision: PolicyDecision;
}
