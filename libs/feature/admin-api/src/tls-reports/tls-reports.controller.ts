import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { BearerAuthGuard } from '../common/auth.guard';
import { pageOf } from '../common/pagination';
import { ZodPipe } from '../common/zod.pipe';
import { ApiDoc, ApiTag } from '../openapi/api-doc';
import { ListTlsReportsQuery, TlsReportParam, TlsReportSummary, TlsReportView } from './tls-reports.schemas';
import { TlsReportsService } from './tls-reports.service';

@ApiTag('tls-reports', 'TLS-RPT reports (RFC 8460) other mail servers sent about our domains.')
@UseGuards(BearerAuthGuard)
@Controller('api/v1/tls-reports')
export class TlsReportsController {
  constructor(private readonly reports: TlsReportsService) {}

  @Get()
  @ApiDoc({
    summary: 'TLS-RPT reports received, newest first',
    query: ListTlsReportsQuery,
    response: pageOf(TlsReportSummary),
    errors: [400],
  })
  list(@Query(new ZodPipe(ListTlsReportsQuery)) query: ListTlsReportsQuery) {
    return this.reports.list(query);
  }

  @Get(':id')
  @ApiDoc({
    summary: 'One TLS-RPT report with its JSON',
    params: { id: 'Report id (UUID)' },
    response: TlsReportView,
    errors: [400, 404],
  })
  get(@Param(new ZodPipe(TlsReportParam)) params: { id: string }) {
    return this.reports.get(params.id);
  }
}
