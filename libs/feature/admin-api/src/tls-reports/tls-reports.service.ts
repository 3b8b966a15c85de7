import { Injectable } from '@nestjs/common';
import { PrismaService, type TlsReport } from '@mta/db';
import { notFound } from '../common/errors';
import { paginate } from '../common/pagination';
import type { ListTlsReportsQuery } from './tls-reports.schemas';

function summary(row: TlsReport) {
  return {
    id: row.id,
    receivedAt: row.receivedAt,
    organization: row.organization,
    reportId: row.reportId,
    contactInfo: row.contactInfo,
    start: row.startAt,
    end: row.endAt,
    policyDomains: row.policyDomains,
    successfulSessions: row.successfulSessions,
    failedSessions: row.failedSessions,
  };
}

/** TLS-RPT reports other MTAs sent about our domains (stored by delivery, TLSRPT_RECEIVE_ADDRESS). */
@Injectable()
export class TlsReportsService {
  constructor(private readonly db: PrismaService) {}

  list(query: ListTlsReportsQuery) {
    const where = query.domain ? { policyDomains: { has: query.domain } } : {};
    return paginate(
      { field: 'receivedAt', direction: 'desc', time: true },
      query,
      (args) => this.db.client.tlsReport.findMany({ ...args, where: { AND: [where, args.where] } }),
      summary,
    );
  }

  async get(id: string) {
    const row = await this.db.client.tlsReport.findUnique({ where: { id } });
    if (!row) throw notFound(`TLS report ${id}`);
    return { ...summary(row), report: row.report };
  }
}
