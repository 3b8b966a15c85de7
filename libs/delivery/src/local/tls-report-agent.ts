/**
 * TLS-RPT reports addressed to us (RFC 8460 §5.3, `TLSRPT_RECEIVE_ADDRESS`): local delivery to
 * that address reads the message (mailparser), takes its `application/tlsrpt+gzip` (or
 * `+json`) part, checks the report's shape (§4.4) and stores it in `tls_reports` (a report sent
 * twice, same organization and report id, is kept once), where the admin API shows it. A
 * message there that is not a readable report goes to the mailbox as any other mail.
 */
import { gunzipSync } from 'node:zlib';
import { simpleParser } from 'mailparser';
import type pg from 'pg';
import { z } from 'zod';
import { openBody } from '../body';
import type { DeliveryAgent, DeliveryReport, DeliveryRequest, RecipientDelivery } from '../contract';

/** A report larger than this (compressed or not) is not read. */
const MAX_REPORT_BYTES = 4 * 1024 * 1024;

const Report = z.object({
  'organization-name': z.string().min(1).max(1000),
  'date-range': z.object({ 'start-datetime': z.iso.datetime(), 'end-datetime': z.iso.datetime() }),
  'contact-info': z.string().max(1000).optional(),
  'report-id': z.string().min(1).max(1000),
  policies: z
    .array(
      z.object({
        policy: z.object({ 'policy-type': z.string(), 'policy-domain': z.string().max(255) }),
        summary: z.object({
          'total-successful-session-count': z.number().int().min(0),
          'total-failure-session-count': z.number().int().min(0),
        }),
      }),
    )
    .max(10_000),
});
type Report = z.output<typeof Report>;

export class TlsReportIngestAgent implements DeliveryAgent {
  private readonly address: string;

  constructor(
    private readonly inner: DeliveryAgent,
    private readonly pool: Pick<pg.Pool, 'query'>,
    address: string,
  ) {
    this.address = address.toLowerCase();
  }

  async deliver(request: DeliveryRequest): Promise<DeliveryReport> {
    const ours = request.recipients.filter((r) => r.address.toLowerCase() === this.address);
    if (ours.length === 0) return this.inner.deliver(request);
    // A report the table will not take (a NUL in its JSON, PostgreSQL away) is filed instead.
    const stored = await this.ingest(request).catch(() => null);
    if (stored === null) return this.inner.deliver(request); // not a report: the mailbox gets it
    const others = request.recipients.filter((r) => r.address.toLowerCase() !== this.address);
    const inner = others.length > 0 ? await this.inner.deliver({ ...request, recipients: others }) : null;
    if (inner?.status === 'deferred-local') return inner;
    const byId = new Map(inner?.results.map((r) => [r.recipientId, r]));
    const results = request.recipients.map(
      (r): RecipientDelivery =>
        byId.get(r.id) ?? {
          recipientId: r.id,
          address: r.address,
          kind: 'delivered',
          code: 250,
          enhanced: '2.0.0',
          text: stored ? 'TLS report stored' : 'TLS report already stored',
          source: 'local',
          remote: { host: 'tls-reports' },
        },
    );
    return { status: 'attempted', results };
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** true: stored; false: already there; null: not a readable TLS report. */
  private async ingest(request: DeliveryRequest): Promise<boolean | null> {
    const read = await readReport(request);
    if (!read) return null;
    const { report, raw } = read;
    const domains = [...new Set(report.policies.map((p) => p.policy['policy-domain'].toLowerCase()))];
    const sum = (k: 'total-successful-session-count' | 'total-failure-session-count'): number =>
      report.policies.reduce((n, p) => n + p.summary[k], 0);
    const { rowCount } = await this.pool.query({
      text: `INSERT INTO tls_reports (organization, report_id, contact_info, start_at, end_at, policy_domains,
                                      successful_sessions, failed_sessions, report)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (organization, report_id) DO NOTHING`,
      values: [
        report['organization-name'],
        report['report-id'],
        report['contact-info'] ?? null,
        report['date-range']['start-datetime'],
        report['date-range']['end-datetime'],
        domains,
        sum('total-successful-session-count'),
        sum('total-failure-session-count'),
        raw, // as sent: the checked fields are only what we index
      ],
    });
    return (rowCount ?? 0) > 0;
  }
}

/** The report in the message (checked, and its JSON text as sent), or null. */
async function readReport(request: DeliveryRequest): Promise<{ report: Report; raw: string } | null> {
  if ((request.size ?? 0) > MAX_REPORT_BYTES * 2) return null;
  try {
    const mail = await simpleParser(openBody(request.body));
    const part = mail.attachments.find((a) => /^application\/tlsrpt\+(gzip|json)$/i.test(a.contentType));
    if (!part || part.content.length > MAX_REPORT_BYTES) return null;
    const json = /gzip$/i.test(part.contentType)
      ? gunzipSync(part.content, { maxOutputLength: MAX_REPORT_BYTES })
      : part.content;
    const raw = json.toString('utf8');
    const parsed = Report.safeParse(JSON.parse(raw));
    return parsed.success ? { report: parsed.data, raw } : null;
  } catch {
    return null;
  }
}
