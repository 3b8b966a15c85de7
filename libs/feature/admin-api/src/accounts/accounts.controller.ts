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
import { AccountParam, AccountView, CreateAccount, UpdateAccount } from './accounts.schemas';
import { AccountsService } from './accounts.service';

const ADDRESS = { address: 'The account address, e.g. `alice@example.com`, in any case' };

@ApiTag(
  'accounts',
  'Logins for submission and local mailboxes. Passwords are write-only. Addresses are stored in lower case and matched without regard to case, at login, at RCPT and for send-as. An account sends (envelope and header From) as its own address and its `sendAs` entries; `@domain` grants every address of that domain; anything else gets 553 5.7.1.',
)
@UseGuards(BearerAuthGuard)
@Controller('api/v1/accounts')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Post()
  @ApiDoc({
    summary: 'Create an account in a local domain',
    body: CreateAccount,
    status: 201,
    response: AccountView,
    errors: [400, 409],
  })
  create(@Body(new ZodPipe(CreateAccount)) body: CreateAccount) {
    return this.accounts.create(body);
  }

  @Get()
  @ApiDoc({
    summary: 'List accounts by address',
    query: PageQuery,
    response: pageOf(AccountView),
    errors: [400],
  })
  list(@Query(new ZodPipe(PageQuery)) page: PageQuery) {
    return this.accounts.list(page);
  }

  @Get(':address')
  @ApiDoc({ summary: 'One account', params: ADDRESS, response: AccountView, errors: [400, 404] })
  get(@Param(new ZodPipe(AccountParam)) params: { address: string }) {
    return this.accounts.get(params.address);
  }

  @Patch(':address')
  @ApiDoc({
    summary: 'Change password, send-as list, disabled or rate limits',
    params: ADDRESS,
    body: UpdateAccount,
    response: AccountView,
    errors: [400, 404],
  })
  update(
    @Param(new ZodPipe(AccountParam)) params: { address: string },
    @Body(new ZodPipe(UpdateAccount)) body: UpdateAccount,
  ) {
    return this.accounts.update(params.address, body);
  }

  @Delete(':address')
  @HttpCode(204)
  @ApiDoc({ summary: 'Delete an account', params: ADDRESS, status: 204, errors: [400, 404] })
  async remove(@Param(new ZodPipe(AccountParam)) params: { address: string }) {
    await this.accounts.remove(params.address);
  }
}
