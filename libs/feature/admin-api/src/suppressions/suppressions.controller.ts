import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { BearerAuthGuard } from '../common/auth.guard';
import { pageOf } from '../common/pagination';
import { ZodPipe } from '../common/zod.pipe';
import { ApiDoc, ApiTag } from '../openapi/api-doc';
import {
  CreateSuppression,
  ListSuppressionsQuery,
  SuppressionParam,
  SuppressionView,
} from './suppressions.schemas';
import { SuppressionsService } from './suppressions.service';

const ADDRESS = { address: 'The suppressed address' };

@ApiTag('suppressions', 'Addresses delivery must not send to.')
@UseGuards(BearerAuthGuard)
@Controller('api/v1/suppressions')
export class SuppressionsController {
  constructor(private readonly suppressions: SuppressionsService) {}

  @Get()
  @ApiDoc({
    summary: 'List suppressed addresses',
    query: ListSuppressionsQuery,
    response: pageOf(SuppressionView),
    errors: [400],
  })
  list(@Query(new ZodPipe(ListSuppressionsQuery)) query: ListSuppressionsQuery) {
    return this.suppressions.list(query);
  }

  @Post()
  @ApiDoc({
    summary: 'Suppress an address',
    body: CreateSuppression,
    status: 201,
    response: SuppressionView,
    errors: [400, 409],
  })
  create(@Body(new ZodPipe(CreateSuppression)) body: CreateSuppression) {
    return this.suppressions.create(body);
  }

  @Get(':address')
  @ApiDoc({ summary: 'One suppression', params: ADDRESS, response: SuppressionView, errors: [400, 404] })
  get(@Param(new ZodPipe(SuppressionParam)) params: { address: string }) {
    return this.suppressions.get(params.address);
  }

  @Delete(':address')
  @HttpCode(204)
  @ApiDoc({ summary: 'Remove a suppression', params: ADDRESS, status: 204, errors: [400, 404] })
  async remove(@Param(new ZodPipe(SuppressionParam)) params: { address: string }) {
    await this.suppressions.remove(params.address);
  }
}
