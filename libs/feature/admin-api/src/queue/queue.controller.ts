import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { BearerAuthGuard } from '../common/auth.guard';
import { PageQuery, pageOf } from '../common/pagination';
import { ZodPipe } from '../common/zod.pipe';
import { ApiDoc, ApiTag } from '../openapi/api-doc';
import {
  DestinationView,
  DomainParam,
  PauseDomain,
  PauseView,
  QueueResumeView,
  QueueSummary,
} from './queue.schemas';
import { QueueService } from './queue.service';

const DOMAIN = { domain: 'Destination domain, e.g. `gmail.com`' };

@ApiTag('queue', 'The queue at a glance; pausing and resuming delivery to a destination.')
@UseGuards(BearerAuthGuard)
@Controller('api/v1/queue')
export class QueueController {
  constructor(private readonly queue: QueueService) {}

  @Get()
  @ApiDoc({
    summary: 'Counts by status and by destination, oldest message age, paused destinations',
    response: QueueSummary,
  })
  summary() {
    return this.queue.summary();
  }

  @Get('domains')
  @ApiDoc({
    summary: 'Every destination with recipients waiting',
    query: PageQuery,
    response: pageOf(DestinationView),
    errors: [400],
  })
  destinations(@Query(new ZodPipe(PageQuery)) page: PageQuery) {
    return this.queue.destinations(page);
  }

  @Post('domains/:domain/pause')
  @HttpCode(200)
  @ApiDoc({
    summary: 'Pause delivery to a destination',
    params: DOMAIN,
    body: PauseDomain,
    response: PauseView,
    errors: [400],
  })
  pause(
    @Param(new ZodPipe(DomainParam)) params: { domain: string },
    @Body(new ZodPipe(PauseDomain)) body: PauseDomain,
  ) {
    return this.queue.pause(params.domain, body);
  }

  @Post('domains/:domain/resume')
  @HttpCode(200)
  @ApiDoc({
    summary: 'Resume delivery to a paused destination',
    params: DOMAIN,
    response: QueueResumeView,
    errors: [400, 404],
  })
  resume(@Param(new ZodPipe(DomainParam)) params: { domain: string }) {
    return this.queue.resume(params.domain);
  }
}
