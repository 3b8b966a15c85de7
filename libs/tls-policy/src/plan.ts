/**
 * What TLS a delivery to one domain needs, host by host (maddy's "security policy" idea: the
 * policy decides which MX may be used and checks each connection).
 *
 * - No policy: opportunistic STARTTLS, certificate not verified (as before).
 * - MTA-STS `enforce` (RFC 8461 §5): only an MX whose name matches the policy, only over TLS
 *   with a certificate that chains to a trusted CA and names that MX (§4.1, §4.2). Anything
 *   else is a temporary failure of that host; never clear text (§5: "treat as temporary").
 * - MTA-STS `testing`: delivered as without a policy; what enforce would have refused is
 *   counted for TLS-RPT (§5.2).
 */
import type { TlsFacts, TlsPolicy, TlsSettings } from '@mta/smtp-client';
import { validateMx } from 'mailauth/lib/mta-sts';
import type { MtaStsLookup, MtaStsPolicies } from './mta-sts/mta-sts';
import type { CachedPolicy } from './mta-sts/store';
import { checkDnsIdentity } from './names';
import type { ReportPolicy, TlsRptRecorder } from './tlsrpt/store';
import type { DanePolicies } from './dane/dane';
import { danePlan } from './dane/plan';

/** The policy an attempt was made under: shown on the attempt and counted in metrics. */
export type TlsPolicyLabel = 'opportunistic' | 'mta-sts' | 'mta-sts-testing' | 'dane';

export interface HostTls {
  /** False: this MX may not be used for the domain (`reason` says why). */
  readonly allowed: boolean;
  readonly reason?: string;
  readonly tls: TlsPolicy;
  readonly tlsSettings?: TlsSettings;
  /** DANE: the server is authenticated by this check of its chain, not by CAs. */
  readonly verifyPeer?: (chain: readonly Buffer[]) => string | null;
  readonly label: TlsPolicyLabel;
}

export interface PlanOptions {
  /**
   * The message is REQUIRETLS (RFC 8689 §4.2.1): an MTA-STS policy in `testing` mode is applied
   * as if it were `enforce`, and no host is used that no policy authenticates.
   */
  readonly requireTls?: boolean;
  /** The MX hosts the route resolved to: their TLSA records are looked up (DANE). */
  readonly hosts?: readonly string[];
  /** The port they are connected on (TLSA `_port._tcp`), 25 unless tests say otherwise. */
  readonly port?: number;
}

export interface TlsPlan {
  readonly domain: string;
  readonly label: TlsPolicyLabel;
  /** Whether the policy authenticates the receiving server (enforce MTA-STS, DANE). */
  readonly authenticated: boolean;
  /** The policy's MTA-STS lookup, when one was made. */
  readonly mtaSts?: MtaStsLookup;
  host(mx: string): HostTls;
  /**
   * The policy's verdict on a session that was opened: under `testing`, whether enforce would
   * have accepted it (for TLS-RPT). Null when nothing is to be checked.
   */
  judge(mx: string, tls: TlsFacts | null): { ok: boolean; failure?: string } | null;
  /** What happened with one MX address, for TLS-RPT (RFC 8460); a no-op without a policy. */
  observe(event: SessionEvent): void;
}

/** One connection attempt under a plan, as TLS-RPT counts it. */
export interface SessionEvent {
  readonly mx: string;
  readonly address?: string;
  /** A session was opened: its TLS (null: none). */
  readonly tls?: TlsFacts | null;
  /** The attempt failed: the client's error (its enhanced code, stage and cause). */
  readonly error?: { readonly enhanced?: string; readonly stage?: string; readonly cause?: unknown };
  /** The policy did not allow this MX: nothing was connected. */
  readonly refused?: boolean;
}

const OPPORTUNISTIC: HostTls = { allowed: true, tls: 'opportunistic', label: 'opportunistic' };

export class OutboundTlsPolicy {
  constructor(
    private readonly options: {
      readonly mtaSts?: Pick<MtaStsPolicies, 'lookup'>;
      /** DANE (RFC 7672), with the validating resolver the operator named. */
      readonly dane?: Pick<DanePolicies, 'lookup'>;
      /** TLS-RPT: where the outcome of each session under a policy is counted. */
      readonly recorder?: TlsRptRecorder;
    },
  ) {}

  /**
   * The plan for mail to `domain` (the recipient domain, lower-case A-label). DANE wins over
   * MTA-STS for the hosts that have TLSA records (RFC 8461 §2); the others follow MTA-STS.
   */
  async plan(domain: string, options: PlanOptions = {}): Promise<TlsPlan> {
    if (domain.startsWith('[')) return noPolicy(domain);
    const requireTls = options.requireTls === true;
    const base = await this.mtaStsPlan(domain, requireTls);
    const { dane } = this.options;
    if (!dane || !options.hosts?.length) return base;
    const hosts = await dane.lookup(domain, options.hosts, options.port ?? 25);
    if (!hosts || [...hosts.values()].every((h) => h.status === 'none')) return base;
    return danePlan(base, hosts, requireTls, this.options.recorder);
  }

  private async mtaStsPlan(domain: string, requireTls: boolean): Promise<TlsPlan> {
    if (!this.options.mtaSts) return noPolicy(domain);
    const lookup = await this.options.mtaSts.lookup(domain);
    const policy = lookup.policy;
    // RFC 8460 §4.3.2.3: a policy that cannot be fetched is a failure of each delivery that
    // needed it, also while the stand-in of a failed fetch is cached.
    const fetchError = lookup.fetchError ?? policy?.fetchError;
    if (fetchError)
      this.options.recorder?.failure(
        domain,
        { 'policy-type': 'sts', 'policy-domain': domain },
        { 'result-type': fetchError },
      );
    if (!policy || policy.mode === 'none') return { ...noPolicy(domain), mtaSts: lookup };
    return mtaStsPlan(domain, policy, lookup, requireTls, this.options.recorder);
  }
}

export function noPolicy(domain: string): TlsPlan {
  return {
    domain,
    label: 'opportunistic',
    authenticated: false,
    host: () => OPPORTUNISTIC,
    judge: () => null,
    observe: () => undefined,
  };
}

function mtaStsPlan(
  domain: string,
  policy: CachedPolicy,
  lookup: MtaStsLookup,
  requireTls: boolean,
  recorder?: TlsRptRecorder,
): TlsPlan {
  const enforce = policy.mode === 'enforce' || requireTls;
  const label: TlsPolicyLabel = enforce ? 'mta-sts' : 'mta-sts-testing';
  const matches = (mx: string): boolean => validateMx(mx, { mode: policy.mode, mx: [...policy.mx] }).valid;
  const tlsSettings = (mx: string): TlsSettings => ({
    checkServerIdentity: (_h, cert) => checkDnsIdentity(mx, cert),
  });
  const report = reportPolicy(domain, policy);
  const plan: TlsPlan = {
    domain,
    label,
    authenticated: enforce,
    mtaSts: lookup,
    host(mx) {
      if (!enforce) return { allowed: true, tls: 'opportunistic', tlsSettings: tlsSettings(mx), label };
      if (!matches(mx)) {
        return {
          allowed: false,
          reason: `MX ${mx} is not in the MTA-STS policy of ${domain} (enforce)`,
          tls: 'required-verify',
          label,
        };
      }
      return { allowed: true, tls: 'required-verify', tlsSettings: tlsSettings(mx), label };
    },
    judge(mx, tls) {
      if (!matches(mx)) return { ok: false, failure: 'validation-failure' };
      if (!tls) return { ok: false, failure: 'starttls-not-supported' };
      if (!tls.authorized) return { ok: false, failure: certificateFailure(tls.authorizationError) };
      return { ok: true };
    },
    observe(event) {
      if (!recorder) return;
      const verdict = sessionVerdict(event, plan);
      if (verdict === null) return;
      if (verdict.ok) return recorder.success(domain, report);
      recorder.failure(domain, report, {
        'result-type': verdict.failure ?? 'validation-failure',
        'receiving-mx-hostname': event.mx,
        ...(event.address ? { 'receiving-ip': event.address } : {}),
      });
    },
  };
  return plan;
}

/** Success, a failure type, or null: the attempt failed for reasons TLS-RPT does not count. */
function sessionVerdict(
  event: SessionEvent,
  plan: Pick<TlsPlan, 'judge'>,
): { ok: boolean; failure?: string } | null {
  if (event.refused) return { ok: false, failure: 'validation-failure' };
  if (event.error) {
    if (event.error.enhanced === '4.7.4') return { ok: false, failure: 'starttls-not-supported' };
    if (event.error.enhanced !== '4.7.5') return null; // a refused connection, a 4xx greeting...
    const cause = event.error.cause;
    const code = cause instanceof Error ? ('code' in cause ? String(cause.code) : cause.message) : '';
    return { ok: false, failure: certificateFailure(code) };
  }
  return event.tls === undefined ? null : plan.judge(event.mx, event.tls);
}

/** RFC 8460 §4.4: the policy as the report names it, its text as lines (`policy-string`). */
function reportPolicy(domain: string, policy: CachedPolicy): ReportPolicy {
  return {
    'policy-type': 'sts',
    'policy-string': [
      'version: STSv1',
      `mode: ${policy.mode}`,
      ...policy.mx.map((m) => `mx: ${m}`),
      `max_age: ${policy.maxAge}`,
    ],
    'policy-domain': domain,
    'mx-host': [...policy.mx],
  };
}

/** RFC 8460 §4.3.2.2 result type of a certificate that did not verify (OpenSSL/Node code). */
export function certificateFailure(code: string | null | undefined): string {
  const c = code ?? '';
  if (/ALTNAME|HOSTNAME|not valid for/i.test(c)) return 'certificate-host-mismatch';
  if (/EXPIRED|NOT_YET_VALID/.test(c)) return 'certificate-expired';
  if (/SELF_SIGNED|UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY|UNTRUSTED|CERT_CHAIN/.test(c))
    return 'certificate-not-trusted';
  return 'validation-failure';
}
