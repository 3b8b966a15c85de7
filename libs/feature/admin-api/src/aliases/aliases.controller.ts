import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { BearerAuthGuard } from '../common/auth.guard';
import { PageQuery, pageOf } from '../common/pagination';
import { ZodPipe } from '../common/zod.pipe';
import { ApiDoc, ApiTag } from '../openapi/api-doc';
import { AliasParam, AliasView, CreateAlias } from './aliases.schemas';
import { AliasesService } from './aliases.service';

const ADDRESS = { address: 'The alias address, e.g. `sales@example.com`, in any case' };

@ApiTag(
  'aliases',
  'Addresses in local domains that deliver to each of their targets: accounts, other aliases (recursively; a loop or more than ALIAS_MAX_DEPTH levels is refused 550 5.4.6 at RCPT) and outside addresses (forwarded with an SRS envelope sender when SRS_SECRET is set; never when the message failed our DMARC check). Expanded at RCPT: an alias none of whose targets exists gets 550 5.1.1. Stored in lower case.',
)
@UseGuards(BearerAuthGuard)
@Controller('api/v1/aliases')
export class AliasesController {
  constructor(private readonly aliases: AliasesService) {}

  @Post()
  @ApiDoc({
    summary: 'Create an alias',
    body: CreateAlias,
    status: 201,
    response: AliasView,
    errors: [400, 409],
  })
  create(@Body(new ZodPipe(CreateAlias)) body: CreateAlias) {
    return this.aliases.create(body);
  }

  @Get()
  @ApiDoc({
    summary: 'List aliases by address',
    query: PageQuery,
    response: pageOf(AliasView),
    errors: [400],
  })
  list(@Query(new ZodPipe(PageQuery)) page: PageQuery) {
    return this.aliases.list(page);
  }

  @Get(':address')
  @ApiDoc({ summary: 'One alias', params: ADDRESS, response: AliasView, errors: [400, 404] })
  get(@Param(new ZodPipe(AliasParam)) params: { address: string }) {
    return this.aliases.get(params.address);
  }

  @Delete(':address')
  @HttpCode(204)
  @ApiDoc({ summary: 'Delete an alias', params: ADDRESS, status: 204, errors: [400, 404] })
  async remove(@Param(new ZodPipe(AliasParam)) params: { address: string }) {
    await this.aliases.remove(params.address);
  }
}
