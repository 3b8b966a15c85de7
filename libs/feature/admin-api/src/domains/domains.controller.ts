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
import { z } from 'zod';
import { BearerAuthGuard } from '../common/auth.guard';
import { PageQuery, pageOf } from '../common/pagination';
import { ZodPipe } from '../common/zod.pipe';
import { ApiDoc, ApiTag } from '../openapi/api-doc';
import {
  CreateDkimKey,
  CreateDomain,
  DkimKeyView,
  DkimParam,
  DnsCheckView,
  DnsView,
  DomainParam,
  DomainView,
  UpdateDkimKey,
  UpdateDomain,
} from './domains.schemas';
import { DomainsService } from './domains.service';

const NAME = { name: 'Domain name, e.g. `example.com`' };

@ApiTag('domains', 'Domains we accept mail for, their DKIM keys and DNS records.')
@UseGuards(BearerAuthGuard)
@Controller('api/v1/domains')
export class DomainsController {
  constructor(private readonly domains: DomainsService) {}

  @Post()
  @ApiDoc({
    summary: 'Add a domain',
    body: CreateDomain,
    status: 201,
    response: DomainView,
    errors: [400, 409],
  })
  create(@Body(new ZodPipe(CreateDomain)) body: CreateDomain) {
    return this.domains.create(body);
  }

  @Get()
  @ApiDoc({ summary: 'List domains by name', query: PageQuery, response: pageOf(DomainView), errors: [400] })
  list(@Query(new ZodPipe(PageQuery)) page: PageQuery) {
    return this.domains.list(page);
  }

  @Get(':name')
  @ApiDoc({ summary: 'One domain', params: NAME, response: DomainView, errors: [400, 404] })
  get(@Param(new ZodPipe(DomainParam)) params: { name: string }) {
    return this.domains.get(params.name);
  }

  @Patch(':name')
  @ApiDoc({
    summary: 'Change type or accept-all',
    params: NAME,
    body: UpdateDomain,
    response: DomainView,
    errors: [400, 404, 409],
  })
  update(
    @Param(new ZodPipe(DomainParam)) params: { name: string },
    @Body(new ZodPipe(UpdateDomain)) body: UpdateDomain,
  ) {
    return this.domains.update(params.name, body);
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiDoc({
    summary: 'Delete a domain (refused while it has accounts or aliases)',
    params: NAME,
    status: 204,
    errors: [400, 404, 409],
  })
  async remove(@Param(new ZodPipe(DomainParam)) params: { name: string }) {
    await this.domains.remove(params.name);
  }

  @Post(':name/dkim')
  @ApiDoc({
    summary: 'Generate a DKIM key; returns the TXT record to publish',
    params: NAME,
    body: CreateDkimKey,
    status: 201,
    response: DkimKeyView,
    errors: [400, 404, 409],
  })
  createDkim(
    @Param(new ZodPipe(DomainParam)) params: { name: string },
    @Body(new ZodPipe(CreateDkimKey)) body: CreateDkimKey,
  ) {
    return this.domains.createDkimKey(params.name, body);
  }

  @Get(':name/dkim')
  @ApiDoc({
    summary: "The domain's DKIM keys by selector (public parts)",
    params: NAME,
    query: PageQuery,
    response: pageOf(DkimKeyView),
    errors: [400, 404],
  })
  listDkim(
    @Param(new ZodPipe(DomainParam)) params: { name: string },
    @Query(new ZodPipe(PageQuery)) page: PageQuery,
  ) {
    return this.domains.listDkimKeys(params.name, page);
  }

  @Patch(':name/dkim/:selector')
  @ApiDoc({
    summary: 'Activate or deactivate a DKIM key (rotation: the newest active key of each algorithm signs)',
    params: { ...NAME, selector: 'DKIM selector' },
    body: UpdateDkimKey,
    response: DkimKeyView,
    errors: [400, 404],
  })
  updateDkim(
    @Param(new ZodPipe(DkimParam)) params: z.output<typeof DkimParam>,
    @Body(new ZodPipe(UpdateDkimKey)) body: UpdateDkimKey,
  ) {
    return this.domains.updateDkimKey(params.name, params.selector, body);
  }

  @Delete(':name/dkim/:selector')
  @HttpCode(204)
  @ApiDoc({
    summary: 'Delete a DKIM key',
    params: { ...NAME, selector: 'DKIM selector' },
    status: 204,
    errors: [400, 404],
  })
  async removeDkim(@Param(new ZodPipe(DkimParam)) params: z.output<typeof DkimParam>) {
    await this.domains.removeDkimKey(params.name, params.selector);
  }

  @Get(':name/dns')
  @ApiDoc({
    summary: 'Every DNS record to publish, also as zone text',
    params: NAME,
    response: DnsView,
    errors: [400, 404],
  })
  dns(@Param(new ZodPipe(DomainParam)) params: { name: string }) {
    return this.domains.dns(params.name);
  }

  @Get(':name/dns/check')
  @ApiDoc({
    summary:
      'Resolve the published MX, SPF, DKIM and DMARC records (DNS_SERVERS) and compare them with `GET /dns`',
    params: NAME,
    response: DnsCheckView,
    errors: [400, 404],
  })
  dnsCheck(@Param(new ZodPipe(DomainParam)) params: { name: string }) {
    return this.domains.dnsCheck(params.name);
  }
}
