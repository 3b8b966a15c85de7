/**
 * The TLS-RPT aggregate report (RFC 8460): where to send it (the `_smtp._tls` TXT record, §3),
 * the JSON report (§4), and the mail that carries it (§5.3).
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { PolicyResults } from './store';

/** RFC 8460 §3: the `rua` URIs of a `v=TLSRPTv1` record (mailto: and https: only), or null. */
export function parseTlsRptRecord(records: readonly string[]): string[] | null {
  const ours = records.filter((r) => /^v=TLSRPTv1\s*(;|$)/.test(r));
  if (ours.length !== 1) return null; // none, or several: no report (§3)
  const rua = /(?:^|;)\s*rua=([^;]*)/.exec(ours[0])?.[1];
  if (!rua) return null;
  const uris = rua
    .split(',')
    .map((u) => u.trim())
    .filter((u) => /^(mailto:[^@\s]+@[^@\s]+|https:\/\/\S+)$/i.test(u));
  return uris.length > 0 ? uris : null;
}

export interface ReportInput {
  /** §4.4 `organization-name`: who we are. */
  readonly organization: string;
  /** §4.4 `contact-info`: an address or URI. */
  readonly contact: string;
  /** The UTC day reported, `YYYY-MM-DD`. */
  readonly day: string;
  readonly results: readonly PolicyResults[];
  readonly reportId?: string;
}

/** RFC 8460 §4.4 report object. */
export interface TlsReport {
  readonly 'organization-name': string;
  readonly 'date-range': { readonly 'start-datetime': string; readonly 'end-datetime': string };
  readonly 'contact-info': string;
  readonly 'report-id': string;
  readonly policies: readonly unknown[];
}

export function buildReport(input: ReportInput): TlsReport {
  return {
    'organization-name': input.organization,
    'date-range': { 'start-datetime': `${input.day}T00:00:00Z`, 'end-datetime': `${input.day}T23:59:59Z` },
    'contact-info': input.contact,
    'report-id': input.reportId ?? `${input.day}.${randomBytes(6).toString('hex')}@${input.organization}`,
    policies: input.results.map((r) => ({
      policy: r.policy,
      summary: {
        'total-successful-session-count': r.successes,
        'total-failure-session-count': r.failures.reduce((n, f) => n + f.count, 0),
      },
      ...(r.failures.length > 0
        ? {
            'failure-details': r.failures.map(({ count, ...detail }) => ({
              ...detail,
              'failed-session-count': count,
            })),
          }
        : {}),
    })),
  };
}

/** §5.1: `sender!policy-domain!begin!end[!unique].json.gz`, timestamps in seconds. */
export function reportFileName(submitter: string, domain: string, report: TlsReport): string {
  const t = (iso: string): number => Math.floor(Date.parse(iso) / 1000);
  const range = report['date-range'];
  return `${submitter}!${domain}!${t(range['start-datetime'])}!${t(range['end-datetime'])}.json.gz`;
}

export interface ReportMailInput {
  readonly from: string;
  readonly to: string;
  /** §5.3 TLS-Report-Submitter: our domain. */
  readonly submitter: string;
  /** The policy domain the report is about (§5.3 TLS-Report-Domain). */
  readonly domain: string;
  readonly report: TlsReport;
  readonly date: Date;
  readonly messageId: string;
}

/**
 * §5.3: `multipart/report; report-type="tlsrpt"`, a short text part and the report as
 * `application/tlsrpt+gzip`, with the TLS-Report-Domain and TLS-Report-Submitter fields.
 * The caller DKIM-signs it (§5.3: reports must be signed).
 */
export function reportMail(input: ReportMailInput): Buffer {
  const boundary = `tlsrpt-${randomBytes(12).toString('hex')}`;
  const gz = gzipSync(Buffer.from(JSON.stringify(input.report)));
  const file = reportFileName(input.submitter, input.domain, input.report);
  const id = input.report['report-id'];
  const lines = [
    `From: <${input.from}>`,
    `To: <${input.to}>`,
    `Subject: Report Domain: ${input.domain} Submitter: ${input.submitter} Report-ID: <${id}>`,
    `Date: ${input.date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${input.messageId}>`,
    `TLS-Report-Domain: ${input.domain}`,
    `TLS-Report-Submitter: ${input.submitter}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type="tlsrpt"; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    `This is an aggregate TLS report (RFC 8460) from ${input.submitter} for ${input.domain},`,
    `for ${input.report['date-range']['start-datetime']} to ${input.report['date-range']['end-datetime']}.`,
    '',
    `--${boundary}`,
    `Content-Type: application/tlsrpt+gzip; name="${file}"`,
    'Content-Transfer-Encoding: base64',
    `Content-Disposition: attachment; filename="${file}"`,
    '',
    ...(gz.toString('base64').match(/.{1,76}/g) ?? []),
    '',
    `--${boundary}--`,
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'ascii');
}
