import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { BearerAuthGuard } from '../common/auth.guard';
import { pageOf } from '../common/pagination';
import { ZodPipe } from '../common/zod.pipe';
import { ApiDoc, ApiTag } from '../openapi/api-doc';
import { EventView, ListEventsQuery } from './events.schemas';
import { EventsService } from './events.service';

@ApiTag('events', 'The delivery log: accepted, deferred, delivered, bounced, held, ...')
@UseGuards(BearerAuthGuard)
@Controller('api/v1/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  @ApiDoc({
    summary: 'Events, newest first',
    query: ListEventsQuery,
    response: pageOf(EventView),
    errors: [400],
  })
  list(@Query(new ZodPipe(ListEventsQuery)) query: ListEventsQuery) {
    return this.events.list(query);
  }
}
