/**
 * The Authentication-Results header field (RFC 8601) we add, and the test for incoming ones
 * that claim to be ours, which are removed before the message is stored (RFC 8601 §5).
 */
import { reportedSpf } from './spf';
import type { AuthVerdict, PolicyDecision } from './verdict';

/** `Authentication-Results: <authserv-id>; spf=...; dkim=...; arc=...; dmarc=...` with CRLF. */
export function formatAuthenticationResults(
  authservId: string,
  verdict: AuthVerdict,
  decision: PolicyDecision,
): string {
  return `Authentication-Results: ${authenticationResultsValue(authservId, verdict, decision)}\r\n`;
}

/** The field's value (from the authserv-id on), also the payload of ARC-Authentication-Results. */
export function authenticationResultsValue(
  authservId: string,
  verdict: AuthVerdict,
  decision: PolicyDecision,
): string {
  const spf = reportedSpf(verdict.spf);
  const rows = [
    ...(spf ? [spf.info] : []),
    // RFC 8601 §2.7.1: "dkim=none" when the message carries no signature.
    ...(verdict.dkim.length ? verdict.dkim.map((d) => d.info) : ['dkim=none']),
    ...(verdict.arc.info ? [verdict.arc.info] : ['arc=none']),
    ...(verdict.dmarc?.info ? [withDecision(verdict.dmarc.info, decision)] : []),
  ];
  return `${authservId};\r\n\t${rows.map(oneLine).join(';\r\n\t')}`;
}

/** A header field line carries no bare line ends; mailauth's rows have none, this makes sure. */
const oneLine = (row: string) => row.replace(/\r?\n[ \t]*/g, ' ');

/** Our handling, as a comment after the DMARC result (RFC 8601 §2.3 allows comments). */
function withDecision(info: string, decision: PolicyDecision): string {
  if (decision.action === 'accept' && !decision.appliedPolicy) return info;
  return `${info} (${decision.action}: ${decision.reason.replace(/[()\\]/g, '')})`;
}

/**
 * Whether an Authentication-Results value names `authservId` (RFC 8601 §2.2, §2.5): the first
 * token after any comments, a value or a quoted-string, compared without regard to case.
 */
export function claimsAuthservId(value: string, authservId: string): boolean {
  const text = stripComments(value).trim();
  const quoted = /^"((?:[^"\\]|\\.)*)"/.exec(text);
  const id = quoted ? quoted[1].replace(/\\(.)/g, '$1') : (/^[^\s;]+/.exec(text)?.[0] ?? '');
  return id.toLowerCase() === authservId.toLowerCase();
}

/** Removes RFC 5322 §3.2.2 comments (nested too) outside quoted strings. */
function stripComments(value: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && (quoted || depth > 0)) {
      if (depth === 0) out += c + (value[i + 1] ?? '');
      i++;
    } else if (depth === 0 && c === '"') {
      quoted = !quoted;
      out += c;
    } else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')' && depth > 0) depth--;
    else if (depth === 0) out += c;
  }
  return out;
}
