import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { BearerAuthGuard } from '../common/auth.guard';
import { PageQuery, pageOf } from '../common/pagination';
import { ZodPipe } from '../common/zod.pipe';
import { ApiDoc, ApiTag } from '../openapi/api-doc';
import { CreateToken, CreatedToken, TokenIdParam, TokenView } from './tokens.schemas';
import { TokensService } from './tokens.service';

@ApiTag('tokens', 'API tokens. Only their SHA-256 is stored; a new token is shown once.')
@UseGuards(BearerAuthGuard)
@Controller('api/v1/tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Post()
  @ApiDoc({
    summary: 'Create a token (shown once)',
    body: CreateToken,
    status: 201,
    response: CreatedToken,
    errors: [400],
  })
  create(@Body(new ZodPipe(CreateToken)) body: CreateToken) {
    return this.tokens.create(body.name);
  }

  @Get()
  @ApiDoc({
    summary: 'List tokens, newest first',
    query: PageQuery,
    response: pageOf(TokenView),
    errors: [400],
  })
  list(@Query(new ZodPipe(PageQuery)) page: PageQuery) {
    return this.tokens.list(page);
  }

  @Get(':id')
  @ApiDoc({ summary: 'One token', params: { id: 'Token id' }, response: TokenView, errors: [400, 404] })
  get(@Param(new ZodPipe(TokenIdParam)) params: { id: string }) {
    return this.tokens.get(params.id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiDoc({ summary: 'Revoke a token', params: { id: 'Token id' }, status: 204, errors: [400, 404] })
  async revoke(@Param(new ZodPipe(TokenIdParam)) params: { id: string }) {
    await this.tokens.revoke(params.id);
  }
}
