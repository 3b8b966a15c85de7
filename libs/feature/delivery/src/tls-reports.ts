/**
 * The daily TLS-RPT reports (RFC 8460), sent by the delivery service that counted the
 * sessions: at 00:10 UTC, the day before goes out (one process per day sends, by a Redis
 * key), `mailto:` reports through our own queue (signed like our DSNs), `https:` ones POSTed.
 */
import type { AppConfig } from '@mta/config';
import type { PrismaClient } from '@mta/db';
import { createDnsResolve, type DnsResolveFunction } from '@mta/dns';
import type { Logger } from '@mta/observability';
import type { JobProducer } from '@mta/queue';
import { writeReportMessage } from '@mta/queue-manager';
import {
  msUntilNextRun,
  RedisTlsRptStore,
  sendDailyReports,
  utcDay,
  type TlsReportSettings,
} from '@mta/tls-policy';
import type { Redis } from 'ioredis';

export interface TlsReportDeps {
  readonly config: AppConfig;
  readonly db: PrismaClient;
  readonly producer: JobProducer;
  readonly redis: Redis;
  readonly logger: Logger;
}

/** Our domain as the reports name it: MTA_HOSTNAME without its first label (two labels: itself). */
export function reportingDomain(hostname: string): string {
  const labels = hostname.toLowerCase().replace(/\.$/, '').split('.');
  return labels.length > 2 ? labels.slice(1).join('.') : labels.join('.');
}

export class TlsReportScheduler {
  private timer?: NodeJS.Timeout;
  private readonly resolve: DnsResolveFunction;

  constructor(private readonly deps: TlsReportDeps) {
    this.resolve = createDnsResolve({ servers: deps.config.DNS_SERVERS });
  }

  start(): void {
    const next = (): void => {
      this.timer = setTimeout(() => {
        const yesterday = utcDay(new Date(Date.now() - 86_400_000));
        void this.run(yesterday).finally(next);
      }, msUntilNextRun(new Date()));
      this.timer.unref();
    };
    next();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** Send the reports of `day` (`YYYY-MM-DD`); null when another process already did. */
  async run(day: string) {
    const { config, db, producer, redis, logger } = this.deps;
    const domain = reportingDomain(config.MTA_HOSTNAME);
    const settings: TlsReportSettings = {
      submitter: domain,
      contact: config.TLSRPT_CONTACT ?? `postmaster@${domain}`,
      from: `tlsrpt-noreply@${domain}`,
    };
    const log = logger.child({ module: 'tlsrpt' });
    try {
      const results = await sendDailyReports(day, settings, {
        store: new RedisTlsRptStore(redis, config.REDIS_PREFIX),
        redis,
        prefix: config.REDIS_PREFIX,
        resolveTxt: (name) => this.txt(name),
        sendMail: async (to, content) => {
          const subject = /^Subject: (.*)$/m.exec(content.toString('latin1'))?.[1] ?? 'TLS report';
          const queueId = await writeReportMessage(
            { db, producer, hostname: config.MTA_HOSTNAME, logger: log },
            to,
            content,
            { subject, from: settings.from },
          );
          log.info({ to, queueId, day }, 'TLS report queued');
        },
      });
      for (const r of results ?? []) log.info({ day, ...r }, 'TLS report run for a policy domain');
      return results;
    } catch (error) {
      log.warn({ day, err: (error as Error).message }, 'TLS report run failed');
      return null;
    }
  }

  private async txt(name: string): Promise<string[]> {
    try {
      const answer = await this.resolve(name, 'TXT');
      return answer.map((r) => (Array.isArray(r) ? r.join('') : String(r)));
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA') return [];
      throw error;
    }
  }
}
