import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { BearerAuthGuard } from '../common/auth.guard';
import { PageQuery, pageOf } from '../common/pagination';
import { ZodPipe } from '../common/zod.pipe';
import { ApiDoc, ApiTag } from '../openapi/api-doc';
import {
  CreatedWebhook,
  CreateWebhook,
  DeliveryParams,
  ListDeliveriesQuery,
  UpdateWebhook,
  WebhookDeliveryView,
  WebhookIdParam,
  WebhookView,
} from './webhooks.schemas';
import { WebhooksService } from './webhooks.service';

const ID = { id: 'Webhook endpoint id' };

@ApiTag(
  'webhooks',
  'Endpoints that events are POSTed to, signed with the Standard Webhooks scheme ' +
    '(headers `webhook-id`, `webhook-timestamp`, `webhook-signature`). By default (`batch: true`) the events due ' +
    'together go in one request, `{"events": [...]}` (the `WebhookBatch` schema, up to WEBHOOK_BATCH_MAX events), ' +
    'signed over the whole body; an endpoint created with `batch: false` gets one event per request, the ' +
    '`WebhookEvent_<type>` schemas. ' +
    'Retried with exponential backoff for WEBHOOK_RETRY_WINDOW_MS (24 h); 503 while WEBHOOK_SECRET_KEY is unset.',
)
@UseGuards(BearerAuthGuard)
@Controller('api/v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiDoc({
    summary: 'Create an endpoint (its secret is shown once)',
    body: CreateWebhook,
    status: 201,
    response: CreatedWebhook,
    errors: [400, 503],
  })
  create(@Body(new ZodPipe(CreateWebhook)) body: CreateWebhook) {
    return this.webhooks.create(body);
  }

  @Get()
  @ApiDoc({
    summary: 'List endpoints, newest first',
    query: PageQuery,
    response: pageOf(WebhookView),
    errors: [400, 503],
  })
  list(@Query(new ZodPipe(PageQuery)) page: PageQuery) {
    return this.webhooks.list(page);
  }

  @Get(':id')
  @ApiDoc({ summary: 'One endpoint', params: ID, response: WebhookView, errors: [400, 404, 503] })
  get(@Param(new ZodPipe(WebhookIdParam)) params: { id: string }) {
    return this.webhooks.get(params.id);
  }

  @Patch(':id')
  @ApiDoc({
    summary: 'Change an endpoint',
    params: ID,
    body: UpdateWebhook,
    response: WebhookView,
    errors: [400, 404, 503],
  })
  update(
    @Param(new ZodPipe(WebhookIdParam)) params: { id: string },
    @Body(new ZodPipe(UpdateWebhook)) body: UpdateWebhook,
  ) {
    return this.webhooks.update(params.id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiDoc({
    summary: 'Delete an endpoint and its deliveries',
    params: ID,
    status: 204,
    errors: [400, 404, 503],
  })
  async remove(@Param(new ZodPipe(WebhookIdParam)) params: { id: string }) {
    await this.webhooks.remove(params.id);
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiDoc({
    summary: 'Send a `test` event',
    description:
      'Queues a `test` event for the endpoint; its delivery (and attempts) show in .../deliveries.',
    params: ID,
    status: 202,
    response: WebhookDeliveryView,
    errors: [400, 404, 409, 503],
  })
  test(@Param(new ZodPipe(WebhookIdParam)) params: { id: string }) {
    return this.webhooks.test(params.id);
  }

  @Get(':id/deliveries')
  @ApiDoc({
    summary: 'Deliveries of an endpoint with every attempt, newest first',
    params: ID,
    query: ListDeliveriesQuery,
    response: pageOf(WebhookDeliveryView),
    errors: [400, 404, 503],
  })
  deliveries(
    @Param(new ZodPipe(WebhookIdParam)) params: { id: string },
    @Query(new ZodPipe(ListDeliveriesQuery)) query: ListDeliveriesQuery,
  ) {
    return this.webhooks.deliveries(params.id, query);
  }

  @Post(':id/deliveries/:deliveryId/replay')
  @HttpCode(202)
  @ApiDoc({
    summary: 'Send a delivery again',
    description: 'Due at once, and retried for another retry window; same `webhook-id` and event id.',
    params: { ...ID, deliveryId: 'Delivery id' },
    status: 202,
    response: WebhookDeliveryView,
    errors: [400, 404, 409, 503],
  })
  replay(@Param(new ZodPipe(DeliveryParams)) params: { id: string; deliveryId: string }) {
    return this.webhooks.replay(params.id, params.deliveryId);
  }
}
