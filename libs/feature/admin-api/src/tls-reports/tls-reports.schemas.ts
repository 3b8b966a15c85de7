import { z } from 'zod';
import { DomainName } from '../common/names';
import { PageQuery } from '../common/pagination';

const Timestamp = z.iso.datetime({ offset: true });

export const ListTlsReportsQuery = PageQuery.extend({
  domain: DomainName.optional().describe('Only reports with a policy of this domain.'),
});
export type ListTlsReportsQuery = z.output<typeof ListTlsReportsQuery>;

export const TlsReportParam = z.object({ id: z.uuid() });

export const TlsReportSummary = z.object({
  id: z.uuid(),
  receivedAt: Timestamp,
  organization: z.string().describe('`organization-name`: who sent it.'),
  reportId: z.string(),
  contactInfo: z.string().nullable(),
  start: Timestamp,
  end: Timestamp,
  policyDomains: z.array(z.string()),
  successfulSessions: z.number().int().describe('Sessions that met the policy, all policies together.'),
  failedSessions: z.number().int(),
});

export const TlsReportView = TlsReportSummary.extend({
  report: z.record(z.string(), z.unknown()).describe('The report as sent (RFC 8460 §4.4 JSON).'),
});
