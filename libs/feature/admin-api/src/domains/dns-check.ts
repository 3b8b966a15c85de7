import { DnsResolveError, type DnsAnswer, type DnsResolveFunction } from '@mta/dns';
import type { DkimAlgorithm } from './dkim';

export type CheckStatus = 'match' | 'mismatch' | 'missing' | 'error';

export interface DnsCheckInput {
  domain: string;
  type: 'local' | 'relay';
  /** MTA_HOSTNAME: the MX target and the host SPF must authorise */
  hostname: string;
  dkimKeys: { selector: string; algorithm: DkimAlgorithm; publicKey: string; active: boolean }[];
}

export interface RecordCheck {
  purpose: 'mx' | 'spf' | 'dkim' | 'dmarc';
  name: string;
  type: 'MX' | 'TXT';
  /** For DKIM: the selector checked, and whether that key signs. */
  selector?: string;
  active?: boolean;
  status: CheckStatus;
  /** What the DNS answered (TXT strings joined; MX as `preference exchange.`). */
  found: string[];
  detail: string;
}

const lower = (s: string) => s.toLowerCase().replace(/\.$/, '');

/** TXT answers with their character-strings joined (RFC 7208 §3.3, RFC 6376 §3.6.2.2). */
function txtRecords(answer: DnsAnswer): string[] {
  return answer.map((r) => (Array.isArray(r) ? r.join('') : typeof r === 'string' ? r : ''));
}

/** `tag=value` pairs of a DKIM or DMARC record (RFC 6376 §3.2), names lower-cased. */
function tags(record: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of record.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).replace(/\s+/g, ''));
  }
  return out;
}

type Lookup = { ok: true; answer: DnsAnswer } | { ok: false; missing: boolean; detail: string };

async function ask(resolve: DnsResolveFunction, name: string, type: 'MX' | 'TXT'): Promise<Lookup> {
  try {
    return { ok: true, answer: await resolve(name, type) };
  } catch (err) {
    const code = err instanceof DnsResolveError ? err.code : 'error';
    const missing = code === 'ENOTFOUND' || code === 'ENODATA';
    return { ok: false, missing, detail: missing ? `no ${type} record` : `lookup failed: ${code}` };
  }
}

function failed(
  base: Omit<RecordCheck, 'status' | 'found' | 'detail'>,
  r: Lookup & { ok: false },
): RecordCheck {
  return { ...base, status: r.missing ? 'missing' : 'error', found: [], detail: r.detail };
}

/** The MX set must name this MTA (RFC 5321 §5.1); other (backup) exchangers may be there too. */
async function checkMx(resolve: DnsResolveFunction, input: DnsCheckInput): Promise<RecordCheck> {
  const base = { purpose: 'mx' as const, name: `${input.domain}.`, type: 'MX' as const };
  const r = await ask(resolve, input.domain, 'MX');
  if (!r.ok) return failed(base, r);
  const mx = r.answer.flatMap((a) => (typeof a === 'object' && !Array.isArray(a) ? [a] : []));
  const found = mx.map((m) => `${m.priority} ${lower(m.exchange)}.`);
  const ours = mx.some((m) => lower(m.exchange) === lower(input.hostname));
  return {
    ...base,
    status: ours ? 'match' : 'mismatch',
    found,
    detail: ours ? `names ${input.hostname}` : `does not name ${input.hostname}`,
  };
}

/**
 * Exactly one `v=spf1` record (two are a permerror, RFC 7208 §4.5), authorising this MTA with
 * `mx` (when the MX names us) or `a:<hostname>` as the records we suggest do; other mechanisms
 * (more senders, `-all`) are the operator's to add.
 */
async function checkSpf(
  resolve: DnsResolveFunction,
  input: DnsCheckInput,
  mxOk: boolean,
): Promise<RecordCheck> {
  const base = { purpose: 'spf' as const, name: `${input.domain}.`, type: 'TXT' as const };
  const r = await ask(resolve, input.domain, 'TXT');
  if (!r.ok) return failed(base, r);
  const found = txtRecords(r.answer).filter((t) => /^v=spf1(\s|$)/i.test(t));
  if (found.length === 0) return { ...base, status: 'missing', found, detail: 'no v=spf1 record' };
  if (found.length > 1)
    return { ...base, status: 'mismatch', found, detail: 'more than one v=spf1 record (RFC 7208 §4.5)' };
  const terms = (found[0] ?? '').toLowerCase().split(/\s+/);
  const ours = terms.some((t) => t === `a:${lower(input.hostname)}` || t === `+a:${lower(input.hostname)}`);
  const viaMx = mxOk && terms.some((t) => t === 'mx' || t === '+mx');
  const ok = ours || viaMx;
  return {
    ...base,
    status: ok ? 'match' : 'mismatch',
    found,
    detail: ok ? 'authorises this MTA' : `neither mx nor a:${input.hostname}`,
  };
}

/** The key's record: same key type and the same `p=` (RFC 6376 §3.6.1). */
async function checkDkim(
  resolve: DnsResolveFunction,
  input: DnsCheckInput,
  key: DnsCheckInput['dkimKeys'][number],
): Promise<RecordCheck> {
  const name = `${key.selector}._domainkey.${input.domain}`;
  const base = {
    purpose: 'dkim' as const,
    name: `${name}.`,
    type: 'TXT' as const,
    selector: key.selector,
    active: key.active,
  };
  const r = await ask(resolve, name, 'TXT');
  if (!r.ok) return failed(base, r);
  const found = txtRecords(r.answer);
  if (found.length !== 1)
    return { ...base, status: 'mismatch', found, detail: `${found.length} TXT records, expected 1` };
  const t = tags(found[0] ?? '');
  if ((t.get('k') ?? 'rsa') !== key.algorithm)
    return {
      ...base,
      status: 'mismatch',
      found,
      detail: `k=${t.get('k') ?? 'rsa'}, expected k=${key.algorithm}`,
    };
  if (t.get('p') !== key.publicKey)
    return { ...base, status: 'mismatch', found, detail: 'p= is not this key' };
  return {
    ...base,
    status: 'match',
    found,
    detail: key.active ? 'published; signing' : 'published; not signing yet',
  };
}

/** One `v=DMARC1` record with a valid `p=` (RFC 7489 §6.3, §6.6.3); the policy is the operator's. */
async function checkDmarc(resolve: DnsResolveFunction, input: DnsCheckInput): Promise<RecordCheck> {
  const name = `_dmarc.${input.domain}`;
  const base = { purpose: 'dmarc' as const, name: `${name}.`, type: 'TXT' as const };
  const r = await ask(resolve, name, 'TXT');
  if (!r.ok) return failed(base, r);
  const found = txtRecords(r.answer).filter((t) => /^v\s*=\s*DMARC1\s*(;|$)/i.test(t));
  if (found.length === 0) return { ...base, status: 'missing', found, detail: 'no v=DMARC1 record' };
  if (found.length > 1)
    return { ...base, status: 'mismatch', found, detail: 'more than one v=DMARC1 record' };
  const p = tags(found[0] ?? '')
    .get('p')
    ?.toLowerCase();
  const ok = p === 'none' || p === 'quarantine' || p === 'reject';
  return { ...base, status: ok ? 'match' : 'mismatch', found, detail: ok ? `p=${p}` : 'no valid p= tag' };
}

/**
 * Resolves what `dnsRecords` says to publish (MX, SPF, every DKIM key's selector, DMARC) and
 * says of each whether the DNS has it. A relay domain only needs us as an MX.
 */
export async function checkDns(resolve: DnsResolveFunction, input: DnsCheckInput): Promise<RecordCheck[]> {
  const mx = await checkMx(resolve, input);
  if (input.type === 'relay') return [mx];
  const [spf, dmarc, ...dkim] = await Promise.all([
    checkSpf(resolve, input, mx.status === 'match'),
    checkDmarc(resolve, input),
    ...input.dkimKeys.map((k) => checkDkim(resolve, input, k)),
  ]);
  return [mx, spf, ...dkim, dmarc];
}
