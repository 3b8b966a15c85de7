import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { BearerAuthGuard } from '../common/auth.guard';
import { PageQuery, pageOf } from '../common/pagination';
import { ZodPipe } from '../common/zod.pipe';
import { ApiDoc, ApiTag } from '../openapi/api-doc';
import { AliasParam, AliasView, CreateAlias } from './aliases.schemas';
import { AliasesService } from './aliases.service';

const ADDRESS = { address: 'The alias address, e.g. `sales@example.com`' };

@ApiTag('aliases', 'Addresses in local domains that forward to accounts or outside addresses.')
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
