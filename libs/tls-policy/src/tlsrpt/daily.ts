/**
 * The daily TLS-RPT run (RFC 8460 §5): for each policy domain with results on a day, its
 * `_smtp._tls` record says where reports go; each `mailto:` gets the report as signed mail
 * through our own queue (the caller's `sendMail`), each `https:` URI a POST of the gzipped JSON
 * (§5.4, `application/tlsrpt+gzip`, certificate validated). One process sends a day (a Redis
 * key taken with NX); the day's counts are dropped afterwards.
 */
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Redis } from 'ioredis';
import { buildReport, parseTlsRptRecord, reportMail } from './report';
import type { RedisTlsRptStore } from './store';

export interface TlsReportSettings {
  /** Our domain: organization name and `TLS-Report-Submitter` (§5.3). */
  readonly submitter: string;
  /** §4.4 `contact-info`. */
  readonly contact: string;
  /** From address of report mail. */
  readonly from: string;
}

export interface TlsReportDeps {
  readonly store: Pick<RedisTlsRptStore, 'domains' | 'results' | 'clear'>;
  readonly redis: Redis;
  readonly prefix: string;
  /** TXT records of a name, each record's strings joined; [] when there is none. */
  readonly resolveTxt: (name: string) => Promise<string[]>;
  /** Sign, store and queue one report message to `to` (envelope sender `<>`). */
  readonly sendMail: (to: string, content: Buffer) => Promise<void>;
  /** POST the gzipped report (default: node:https with validation). */
  readonly postHttps?: (url: string, body: Buffer) => Promise<void>;
  readonly now?: () => Date;
}

export interface DomainReportResult {
  readonly domain: string;
  readonly sent: string[];
  readonly failed: string[];
  /** Why nothing was sent (no or a broken `_smtp._tls` record). */
  readonly skipped?: string;
}

export async function sendDailyReports(
  day: string,
  settings: TlsReportSettings,
  deps: TlsReportDeps,
): Promise<DomainReportResult[] | null> {
  const lock = await deps.redis.set(`${deps.prefix}:tlsrpt:${day}:sent`, '1', 'EX', 3 * 86_400, 'NX');
  if (lock !== 'OK') return null; // another process has sent (or is sending) this day
  const out: DomainReportResult[] = [];
  for (const domain of await deps.store.domains(day)) {
    out.push(await reportDomain(day, domain, settings, deps));
  }
  await deps.store.clear(day);
  return out;
}

async function reportDomain(
  day: string,
  domain: string,
  settings: TlsReportSettings,
  deps: TlsReportDeps,
): Promise<DomainReportResult> {
  let rua: string[] | null;
  try {
    rua = parseTlsRptRecord(await deps.resolveTxt(`_smtp._tls.${domain}`));
  } catch {
    return { domain, sent: [], failed: [], skipped: 'the _smtp._tls lookup failed' };
  }
  if (!rua) return { domain, sent: [], failed: [], skipped: 'no TLSRPTv1 record with a usable rua' };
  const report = buildReport({
    organization: settings.submitter,
    contact: settings.contact,
    day,
    results: await deps.store.results(day, domain),
  });
  const sent: string[] = [];
  const failed: string[] = [];
  for (const uri of rua) {
    try {
      if (uri.toLowerCase().startsWith('mailto:')) {
        const to = decodeURIComponent(uri.slice(7).split('?')[0]);
        const messageId = `${randomBytes(8).toString('hex')}.tlsrpt@${settings.submitter}`;
        const date = deps.now?.() ?? new Date();
        const mail = reportMail({
          from: settings.from,
          to,
          submitter: settings.submitter,
          domain,
          report,
          date,
          messageId,
        });
        await deps.sendMail(to, mail);
      } else {
        await (deps.postHttps ?? postHttps)(uri, gzipSync(Buffer.from(JSON.stringify(report))));
      }
      sent.push(uri);
    } catch {
      failed.push(uri);
    }
  }
  return { domain, sent, failed };
}

/** §5.4: POST with `Content-Type: application/tlsrpt+gzip`; any 2xx is success. */
export function postHttps(url: string, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/tlsrpt+gzip', 'content-length': body.length },
        timeout: 30_000,
      },
      (res) => {
        res.resume();
        const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
        res.on('end', () => (ok ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Milliseconds from `now` to the next 00:10 UTC (reports of the day before go out then). */
export function msUntilNextRun(now: Date): number {
  const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 0, 10));
  if (next.getTime() <= now.getTime()) next.setUTCDate(next.getUTCDate() + 1);
  return next.getTime() - now.getTime();
}
