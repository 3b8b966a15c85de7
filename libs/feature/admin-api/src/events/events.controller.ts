import { Controller, Get, Query, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { BearerAuthGuard } from '../common/auth.guard';
import { pageOf } from '../common/pagination';
import { ZodPipe } from '../common/zod.pipe';
import { ApiDoc, ApiTag } from '../openapi/api-doc';
import { EventView, ListEventsQuery, StreamEventsQuery } from './events.schemas';
import { EventsService } from './events.service';
import { EventsStream } from './events-stream';

/** A comment line now and then, so that proxies and clients see the stream is alive. */
const KEEPALIVE_MS = 15_000;

@ApiTag('events', 'The delivery log: accepted, deferred, delivered, bounced, held, ...')
@UseGuards(BearerAuthGuard)
@Controller('api/v1/events')
export class EventsController {
  constructor(
    private readonly events: EventsService,
    private readonly stream: EventsStream,
  ) {}

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

  @Get('stream')
  @ApiDoc({
    summary: 'New events as they happen (Server-Sent Events)',
    description:
      'A `text/event-stream`: one `message` per event, its `data` an `EventView` as JSON, its `id` the event id; ' +
      'oldest first, with the filters of `GET /api/v1/events`. From now on, or from `since`. Comment lines keep it alive.',
    query: StreamEventsQuery,
    produces: 'text/event-stream',
    errors: [400],
  })
  async follow(
    @Query(new ZodPipe(StreamEventsQuery)) query: StreamEventsQuery,
    @Res() res: Response,
  ): Promise<void> {
    const done = new AbortController();
    res.on('close', () => done.abort());
    let keepalive: NodeJS.Timeout | undefined;
    // The 200 goes once the stream's start is fixed: an event made after the client has it is sent.
    const open = () => {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(': events\n\n');
      keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    };
    try {
      // RFC: the WHATWG HTML standard, "Server-sent events" §9.2.6: `id:` and `data:` lines, a blank line ends each.
      await this.stream.follow(
        query,
        async (events) => {
          const text = events.map((e) => `id: ${e.id}\ndata: ${JSON.stringify(e)}\n\n`).join('');
          if (res.write(text)) return;
          // A slow reader: wait for it (or for it to go) rather than buffer without bound.
          await new Promise((resolve) => {
            res.once('drain', resolve);
            done.signal.addEventListener('abort', resolve, { once: true });
          });
        },
        done.signal,
        open,
      );
    } catch {
      const message = 'the event log cannot be read now; reconnect';
      if (!res.headersSent) {
        res.status(503).json({ error: { status: 503, code: 'unavailable', message } }); // the API's error shape
        return;
      }
      res.write(`event: error\ndata: ${JSON.stringify({ message })}\n\n`);
    } finally {
      clearInterval(keepalive);
      res.end();
    }
  }
}
