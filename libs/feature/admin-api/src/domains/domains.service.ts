import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '@mta/config';
import { PrismaService, type Domain } from '@mta/db';
import { APP_CONFIG } from '@mta/runtime';
import { conflict, invalidField, notFound } from '../common/errors';
import { paginate, type PageQuery } from '../common/pagination';
import {
  dkimRecordText,
  generateDkimKey,
  generateSelector,
  splitTxt,
  zoneTxt,
  type DkimAlgorithm,
} from './dkim';
import { createDnsResolve, type DnsResolveFunction } from '@mta/dns';
import { checkDns } from './dns-check';
import { dnsRecords, mtaStsPolicy, zoneText } from './dns-records';
import type { CreateDkimKey, CreateDomain, UpdateDkimKey, UpdateDomain } from './domains.schemas';

function view(row: Domain) {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    acceptAll: row.acceptAll,
    dmarcEnforce: row.dmarcEnforce,
    greylisting: row.greylisting,
    mtaSts: { mode: row.mtaStsMode, mx: row.mtaStsMx },
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

interface DkimRow {
  id: string;
  selector: string;
  algorithm: DkimAlgorithm;
  publicKey: string;
  active: boolean;
  createdAt: Date;
}

/** The public side of a DKIM key; the private key is never selected for the API. */
function dkimView(domain: string, key: DkimRow) {
  const txt = splitTxt(dkimRecordText(key.algorithm, key.publicKey));
  const dnsName = `${key.selector}._domainkey.${domain}`;
  return {
    id: key.id,
    selector: key.selector,
    algorithm: key.algorithm,
    active: key.active,
    createdAt: key.createdAt,
    dnsName,
    txt,
    record: `${dnsName}.\t3600\tIN\tTXT\t${zoneTxt(txt)}`,
  };
}

const PUBLIC_DKIM_FIELDS = {
  id: true,
  selector: true,
  algorithm: true,
  publicKey: true,
  active: true,
  createdAt: true,
} as const;

@Injectable()
export class DomainsService {
  /** No cache: a check must see a record just published (our own cache at least). */
  private readonly resolve: DnsResolveFunction;

  constructor(
    private readonly db: PrismaService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.resolve = createDnsResolve({ servers: config.DNS_SERVERS, cache: false, timeoutMs: 3000 });
  }

  private async find(name: string): Promise<Domain> {
    const row = await this.db.client.domain.findUnique({ where: { name } });
    if (!row) throw notFound(`domain ${name}`);
    return row;
  }

  async create(input: CreateDomain) {
    if (await this.db.client.domain.findUnique({ where: { name: input.name } }))
      throw conflict(`domain ${input.name} already exists`);
    const { mtaSts, ...rest } = input;
    return view(
      await this.db.client.domain.create({ data: { ...rest, mtaStsMode: mtaSts.mode, mtaStsMx: mtaSts.mx } }),
    );
  }

  list(page: PageQuery) {
    return paginate(
      { field: 'name', direction: 'asc' },
      page,
      (args) => this.db.client.domain.findMany(args),
      view,
    );
  }

  async get(name: string) {
    return view(await this.find(name));
  }

  async update(name: string, input: UpdateDomain) {
    const current = await this.find(name);
    const type = input.type ?? current.type;
    const acceptAll = input.acceptAll ?? (type === 'relay' ? false : current.acceptAll);
    if (type === 'relay' && acceptAll) throw invalidField('acceptAll', 'only local domains can accept all');
    if (type === 'relay' && current.type === 'local') {
      const [accounts, aliases] = await Promise.all([
        this.db.client.account.count({ where: { domainId: current.id } }),
        this.db.client.alias.count({ where: { domainId: current.id } }),
      ]);
      if (accounts + aliases > 0) throw conflict(`domain ${name} has accounts or aliases: delete them first`);
    }
    const dmarcEnforce = input.dmarcEnforce ?? current.dmarcEnforce;
    const greylisting = input.greylisting === undefined ? current.greylisting : input.greylisting;
    return view(
      await this.db.client.domain.update({
        where: { id: current.id },
        data: {
          type,
          acceptAll,
          dmarcEnforce,
          greylisting,
          ...(input.mtaSts ? { mtaStsMode: input.mtaSts.mode, mtaStsMx: input.mtaSts.mx } : {}),
        },
      }),
    );
  }

  /** Deletes a domain and its DKIM keys; refused (409) while it has accounts or aliases. */
  async remove(name: string): Promise<void> {
    const current = await this.find(name);
    const [accounts, aliases] = await Promise.all([
      this.db.client.account.count({ where: { domainId: current.id } }),
      this.db.client.alias.count({ where: { domainId: current.id } }),
    ]);
    if (accounts + aliases > 0)
      throw conflict(`domain ${name} has ${accounts} account(s) and ${aliases} alias(es): delete them first`);
    await this.db.client.domain.delete({ where: { id: current.id } });
  }

  async createDkimKey(name: string, input: CreateDkimKey) {
    const domain = await this.find(name);
    const selector = input.selector ?? generateSelector();
    const exists = await this.db.client.dkimKey.findUnique({
      where: { domainId_selector: { domainId: domain.id, selector } },
      select: { id: true },
    });
    if (exists) throw conflict(`domain ${name} already has a DKIM key with selector ${selector}`);
    const pair = generateDkimKey(input.algorithm);
    const row = await this.db.client.dkimKey.create({
      data: { domainId: domain.id, selector, algorithm: input.algorithm, active: input.active, ...pair },
      select: PUBLIC_DKIM_FIELDS,
    });
    return dkimView(name, row);
  }

  async listDkimKeys(name: string, page: PageQuery) {
    const domain = await this.find(name);
    return paginate(
      { field: 'selector', direction: 'asc' },
      page,
      (args) =>
        this.db.client.dkimKey.findMany({
          ...args,
          where: { AND: [{ domainId: domain.id }, args.where] },
          select: PUBLIC_DKIM_FIELDS,
        }),
      (row) => dkimView(name, row),
    );
  }

  /** Submission sees the change within its key cache's 5 s. */
  async updateDkimKey(name: string, selector: string, input: UpdateDkimKey) {
    const domain = await this.find(name);
    const { count } = await this.db.client.dkimKey.updateMany({
      where: { domainId: domain.id, selector },
      data: { active: input.active },
    });
    if (count === 0) throw notFound(`DKIM key ${selector} of domain ${name}`);
    const row = await this.db.client.dkimKey.findUniqueOrThrow({
      where: { domainId_selector: { domainId: domain.id, selector } },
      select: PUBLIC_DKIM_FIELDS,
    });
    return dkimView(name, row);
  }

  async removeDkimKey(name: string, selector: string): Promise<void> {
    const domain = await this.find(name);
    const { count } = await this.db.client.dkimKey.deleteMany({ where: { domainId: domain.id, selector } });
    if (count === 0) throw notFound(`DKIM key ${selector} of domain ${name}`);
  }

  async dns(name: string) {
    const domain = await this.find(name);
    const keys = await this.db.client.dkimKey.findMany({
      where: { domainId: domain.id },
      orderBy: { createdAt: 'asc' },
      select: PUBLIC_DKIM_FIELDS,
    });
    const hostname = this.config.MTA_HOSTNAME;
    const mtaSts = { mode: domain.mtaStsMode, mx: domain.mtaStsMx };
    const records = dnsRecords({ domain: name, type: domain.type, hostname, dkimKeys: keys, mtaSts });
    return { domain: name, records, zone: zoneText(records), mtaStsPolicy: mtaStsPolicy(hostname, mtaSts) };
  }

  /**
   * The MTA-STS policy file of the local domain `host` names (`mta-sts.<domain>`), or null: not
   * one of our local domains (RFC 8461 §3.3: the policy host is `mta-sts.` + the domain).
   */
  async publishedPolicy(host: string): Promise<string | null> {
    const name = /^mta-sts\.(.+)$/.exec(host.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, ''))?.[1];
    if (!name) return null;
    const domain = await this.db.client.domain.findUnique({ where: { name } });
    if (!domain || domain.type !== 'local') return null;
    return mtaStsPolicy(this.config.MTA_HOSTNAME, { mode: domain.mtaStsMode, mx: domain.mtaStsMx });
  }

  async dnsCheck(name: string) {
    const domain = await this.find(name);
    const dkimKeys = await this.db.client.dkimKey.findMany({
      where: { domainId: domain.id },
      orderBy: { createdAt: 'asc' },
      select: PUBLIC_DKIM_FIELDS,
    });
    const records = await checkDns(this.resolve, {
      domain: name,
      type: domain.type,
      hostname: this.config.MTA_HOSTNAME,
      dkimKeys,
    });
    return { domain: name, ok: records.every((r) => r.status === 'match'), records };
  }
}
