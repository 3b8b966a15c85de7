/**
 * TLS-RPT (RFC 8460) results, recorded as deliveries happen and read back for the daily
 * report: per UTC day and policy domain, per policy, the successful sessions and the failures
 * by result type, MX and address (§4.4). Kept in Redis so that every delivery process adds to
 * the same counts; a day's keys expire after three days.
 *
 *   <prefix>:tlsrpt:<day>                  SET of policy domains with results that day
 *   <prefix>:tlsrpt:<day>:<domain>         HASH  p:<pid> → policy JSON, s:<pid> → successes,
 *                                                f:<pid>:<failure JSON> → failures
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** RFC 8460 §4.4 `policy`. */
export interface ReportPolicy {
  readonly 'policy-type': 'sts' | 'tlsa' | 'no-policy-found';
  readonly 'policy-string'?: readonly string[];
  readonly 'policy-domain': string;
  readonly 'mx-host'?: readonly string[];
}

/** RFC 8460 §4.4 `failure-details` entry, without its count. */
export interface FailureDetail {
  readonly 'result-type': string;
  readonly 'sending-mta-ip'?: string;
  readonly 'receiving-mx-hostname'?: string;
  readonly 'receiving-ip'?: string;
  readonly 'additional-information'?: string;
}

export interface PolicyResults {
  readonly policy: ReportPolicy;
  readonly successes: number;
  readonly failures: readonly (FailureDetail & { readonly count: number })[];
}

/** Where a delivery reports what happened; never throws and never waits for the store. */
export interface TlsRptRecorder {
  success(domain: string, policy: ReportPolicy): void;
  failure(domain: string, policy: ReportPolicy, detail: FailureDetail): void;
}

const TTL_SECONDS = 3 * 86_400;

/** `YYYY-MM-DD` of `at` in UTC. */
export const utcDay = (at: Date): string => at.toISOString().slice(0, 10);

export class RedisTlsRptStore implements TlsRptRecorder {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  success(domain: string, policy: ReportPolicy): void {
    void this.add(domain, policy, null).catch(() => undefined);
  }

  failure(domain: string, policy: ReportPolicy, detail: FailureDetail): void {
    void this.add(domain, policy, detail).catch(() => undefined);
  }

  /** Waits for the write (tests; the recorder methods do not). */
  async add(domain: string, policy: ReportPolicy, failure: FailureDetail | null): Promise<void> {
    const day = utcDay(this.now());
    const text = JSON.stringify(policy);
    const pid = createHash('sha256').update(text).digest('hex').slice(0, 12);
    const key = `${this.prefix}:tlsrpt:${day}:${domain}`;
    const field = failure ? `f:${pid}:${JSON.stringify(failure)}` : `s:${pid}`;
    await this.redis
      .multi()
      .sadd(`${this.prefix}:tlsrpt:${day}`, domain)
      .expire(`${this.prefix}:tlsrpt:${day}`, TTL_SECONDS)
      .hsetnx(key, `p:${pid}`, text)
      .hincrby(key, field, 1)
      .expire(key, TTL_SECONDS)
      .exec();
  }

  /** The policy domains with results on `day`. */
  async domains(day: string): Promise<string[]> {
    return (await this.redis.smembers(`${this.prefix}:tlsrpt:${day}`)).sort();
  }

  /** The results of one policy domain on `day`, one entry per policy it had. */
  async results(day: string, domain: string): Promise<PolicyResults[]> {
    const hash = await this.redis.hgetall(`${this.prefix}:tlsrpt:${day}:${domain}`);
    const out = new Map<
      string,
      { policy: ReportPolicy; successes: number; failures: PolicyResults['failures'][number][] }
    >();
    for (const [field, value] of Object.entries(hash)) {
      if (!field.startsWith('p:')) continue;
      out.set(field.slice(2), { policy: JSON.parse(value) as ReportPolicy, successes: 0, failures: [] });
    }
    for (const [field, value] of Object.entries(hash)) {
      const m = /^([sf]):([0-9a-f]{12})(?::(.*))?$/s.exec(field);
      const entry = m ? out.get(m[2]) : undefined;
      if (!m || !entry) continue;
      if (m[1] === 's') entry.successes += Number(value);
      else entry.failures.push({ ...(JSON.parse(m[3] ?? '{}') as FailureDetail), count: Number(value) });
    }
    return [...out.values()];
  }

  /** Forget a day once its reports are sent. */
  async clear(day: string): Promise<void> {
    const domains = await this.domains(day);
    await this.redis.del(
      `${this.prefix}:tlsrpt:${day}`,
      ...domains.map((d) => `${this.prefix}:tlsrpt:${day}:${d}`),
    );
  }
}
