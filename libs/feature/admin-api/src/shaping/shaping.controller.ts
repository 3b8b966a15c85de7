import { Body, Controller, Delete, Get, HttpCode, Param, Put, Query, UseGuards } from '@nestjs/common';
import { BearerAuthGuard } from '../common/auth.guard';
import { PageQuery, pageOf } from '../common/pagination';
import { ZodPipe } from '../common/zod.pipe';
import { ApiDoc, ApiTag } from '../openapi/api-doc';
import { DomainShapingView, PutShaping, ShapingOverrideView, ShapingParam } from './shaping.schemas';
import { ShapingService } from './shaping.service';

const DOMAIN = {
  domain: 'The recipient domain, e.g. `small-isp.example`; with DELIVERY_SHAPING_BY=mx, an MX host name',
};

@ApiTag(
  'shaping',
  'Traffic shaping per destination (the recipient domain; with DELIVERY_SHAPING_BY=mx, the set of MX hosts, whose overrides name an MX host): connections at once, messages per connection and a message rate, over the defaults DELIVERY_MAX_CONNECTIONS, DELIVERY_MAX_MESSAGES_PER_CONNECTION and DELIVERY_MAX_MESSAGE_RATE. Delivery processes apply a change within DELIVERY_SHAPING_REFRESH_MS.',
)
@UseGuards(BearerAuthGuard)
@Controller('api/v1/shaping')
export class ShapingController {
  constructor(private readonly shaping: ShapingService) {}

  @Get()
  @ApiDoc({
    summary: 'List the per-domain overrides',
    query: PageQuery,
    response: pageOf(ShapingOverrideView),
    errors: [400],
  })
  list(@Query(new ZodPipe(PageQuery)) query: PageQuery) {
    return this.shaping.list(query);
  }

  @Get(':domain')
  @ApiDoc({
    summary: 'The shaping of one domain',
    params: DOMAIN,
    response: DomainShapingView,
    errors: [400],
  })
  get(@Param(new ZodPipe(ShapingParam)) params: { domain: string }) {
    return this.shaping.get(params.domain);
  }

  @Put(':domain')
  @ApiDoc({
    summary: 'Set the override of one domain',
    params: DOMAIN,
    body: PutShaping,
    response: DomainShapingView,
    errors: [400],
  })
  put(
    @Param(new ZodPipe(ShapingParam)) params: { domain: string },
    @Body(new ZodPipe(PutShaping)) body: PutShaping,
  ) {
    return this.shaping.put(params.domain, body);
  }

  @Delete(':domain')
  @HttpCode(204)
  @ApiDoc({ summary: 'Remove the override of one domain', params: DOMAIN, status: 204, errors: [400, 404] })
  async remove(@Param(new ZodPipe(ShapingParam)) params: { domain: string }) {
    await this.shaping.remove(params.domain);
  }
}
