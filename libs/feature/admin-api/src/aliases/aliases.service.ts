import { Injectable } from '@nestjs/common';
import { PrismaService } from '@mta/db';
import { conflict, invalidField, notFound } from '../common/errors';
import { domainOf } from '../common/names';
import { paginate, type PageQuery } from '../common/pagination';
import type { CreateAlias } from './aliases.schemas';

const SELECT = {
  id: true,
  address: true,
  disabled: true,
  createdAt: true,
  updatedAt: true,
  domain: { select: { name: true } },
  targets: {
    select: { address: true, account: { select: { address: true } } },
    orderBy: { createdAt: 'asc' },
  },
} as const;

interface Row {
  id: string;
  address: string;
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
  domain: { name: string };
  targets: { address: string | null; account: { address: string } | null }[];
  [key: string]: unknown;
}

function view(row: Row) {
  return {
    id: row.id,
    address: row.address,
    domain: row.domain.name,
    disabled: row.disabled,
    targets: row.targets.map((t) =>
      t.account
        ? { address: t.account.address, kind: 'account' as const }
        : { address: t.address ?? '', kind: 'address' as const },
    ),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

@Injectable()
export class AliasesService {
  constructor(private readonly db: PrismaService) {}

  /** Creates an alias; a target that is an account's address is linked to that account. */
  async create(input: CreateAlias) {
    const domainName = domainOf(input.address);
    const domain = await this.db.client.domain.findUnique({ where: { name: domainName } });
    if (!domain || domain.type !== 'local')
      throw invalidField(
        'address',
        `${domainName} is not a local domain: add it first (POST /api/v1/domains)`,
      );
    const [alias, account] = await Promise.all([
      this.db.client.alias.findUnique({ where: { address: input.address }, select: { id: true } }),
      this.db.client.account.findUnique({ where: { address: input.address }, select: { id: true } }),
    ]);
    if (alias) throw conflict(`alias ${input.address} already exists`);
    if (account) throw conflict(`${input.address} is already an account`);
    const accounts = await this.db.client.account.findMany({
      // Our mailboxes are stored in lower case (MailboxAddress): a target names one whatever its case.
      where: { address: { in: input.targets.map((t) => t.toLowerCase()) } },
      select: { id: true, address: true },
    });
    const accountIds = new Map(accounts.map((a) => [a.address, a.id]));
    const row = await this.db.client.alias.create({
      data: {
        address: input.address,
        domainId: domain.id,
        targets: {
          create: input.targets.map((target) =>
            accountIds.has(target.toLowerCase())
              ? { accountId: accountIds.get(target.toLowerCase()) }
              : { address: target },
          ),
        },
      },
      select: SELECT,
    });
    return view(row);
  }

  list(page: PageQuery) {
    return paginate(
      { field: 'address', direction: 'asc' },
      page,
      (args) => this.db.client.alias.findMany({ ...args, select: SELECT }),
      view,
    );
  }

  async get(address: string) {
    const row = await this.db.client.alias.findUnique({ where: { address }, select: SELECT });
    if (!row) throw notFound(`alias ${address}`);
    return view(row);
  }

  async remove(address: string): Promise<void> {
    const { count } = await this.db.client.alias.deleteMany({ where: { address } });
    if (count === 0) throw notFound(`alias ${address}`);
  }
}
