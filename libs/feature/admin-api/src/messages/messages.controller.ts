import { Controller, Delete, Get, HttpCode, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import { BearerAuthGuard } from '../common/auth.guard';
import { pageOf } from '../common/pagination';
import { Actor } from '../common/principal';
import { ZodPipe } from '../common/zod.pipe';
import { ApiDoc, ApiTag } from '../openapi/api-doc';
import {
  DeleteMessageQuery,
  ListMessagesQuery,
  MessageDetail,
  MessageParam,
  MessageSummary,
  QueueActionResult,
} from './messages.schemas';
import { MessagesService } from './messages.service';
import { QueueActionsService } from './queue-actions.service';

const ID = { id: 'Queue id or message UUID' };
type IdParam = z.output<typeof MessageParam>;

@ApiTag('messages', 'Messages in the queue: inspect, retry, hold, release, delete.')
@UseGuards(BearerAuthGuard)
@Controller('api/v1/messages')
export class MessagesController {
  constructor(
    private readonly messages: MessagesService,
    private readonly actions: QueueActionsService,
  ) {}

  @Get()
  @ApiDoc({
    summary: 'Search messages, newest first',
    query: ListMessagesQuery,
    response: pageOf(MessageSummary),
    errors: [400],
  })
  list(@Query(new ZodPipe(ListMessagesQuery)) query: ListMessagesQuery) {
    return this.messages.list(query);
  }

  @Get(':id')
  @ApiDoc({
    summary: 'A message: envelope, headers, recipients with their status, attempts with replies and TLS',
    params: ID,
    response: MessageDetail,
    errors: [400, 404],
  })
  get(@Param(new ZodPipe(MessageParam)) params: IdParam) {
    return this.messages.get(params.id);
  }

  @Get(':id/raw')
  @ApiDoc({ summary: 'The stored message', params: ID, produces: 'message/rfc822', errors: [400, 404] })
  async raw(@Param(new ZodPipe(MessageParam)) params: IdParam, @Res() res: Response) {
    await this.messages.raw(params.id, res);
  }

  @Post(':id/retry')
  @HttpCode(200)
  @ApiDoc({
    summary: 'Retry the pending recipients now',
    params: ID,
    response: QueueActionResult,
    errors: [400, 404, 409],
  })
  retry(@Param(new ZodPipe(MessageParam)) params: IdParam) {
    return this.actions.retry(params.id);
  }

  @Post(':id/hold')
  @HttpCode(200)
  @ApiDoc({
    summary: 'Hold: deliver nothing until released',
    params: ID,
    response: QueueActionResult,
    errors: [400, 404, 409],
  })
  hold(@Param(new ZodPipe(MessageParam)) params: IdParam, @Actor() actor: string) {
    return this.actions.hold(params.id, actor);
  }

  @Post(':id/release')
  @HttpCode(200)
  @ApiDoc({
    summary: 'Release a held message: deliver now',
    params: ID,
    response: QueueActionResult,
    errors: [400, 404, 409],
  })
  release(@Param(new ZodPipe(MessageParam)) params: IdParam, @Actor() actor: string) {
    return this.actions.release(params.id, actor);
  }

  @Delete(':id')
  @ApiDoc({
    summary:
      'Delete a message (204), or with bounce=true fail its undelivered recipients so the sender is told (200)',
    params: ID,
    query: DeleteMessageQuery,
    response: QueueActionResult,
    otherStatuses: { 204: 'Deleted (bounce=false).' },
    errors: [400, 404, 409],
  })
  async remove(
    @Param(new ZodPipe(MessageParam)) params: IdParam,
    @Query(new ZodPipe(DeleteMessageQuery)) query: z.output<typeof DeleteMessageQuery>,
    @Actor() actor: string,
    @Res({ passthrough: true }) res: Response,
  ) {
    const result = await this.actions.remove(params.id, query.bounce, actor);
    if (!result) res.status(204);
    return result;
  }
}
