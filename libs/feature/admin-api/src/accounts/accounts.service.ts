import { Injectable } from '@nestjs/common';
import { hashPassword } from '@mta/auth';
import { PrismaService } from '@mta/db';
import { conflict, invalidField, notFound } from '../common/errors';
import { domainOf } from '../common/names';
import { paginate, type PageQuery } from '../common/pagination';
import type { CreateAccount, UpdateAccount } from './accounts.schemas';

/** What is read for the API: never the password hash. */
const SELECT = {
  id: true,
  address: true,
  disabled: true,
  createdAt: true,
  updatedAt: true,
  domain: { select: { name: true } },
  sendAs: { select: { address: true }, orderBy: { address: 'asc' } },
} as const;

interface Row {
  id: string;
  address: string;
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
  domain: { name: string };
  sendAs: { address: string }[];
  [key: string]: unknown;
}

function view(row: Row) {
  return {
    id: row.id,
    address: row.address,
    domain: row.domain.name,
    sendAs: row.sendAs.map((s) => s.address),
    disabled: row.disabled,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

@Injectable()
export class AccountsService {
  constructor(private readonly db: PrismaService) {}

  async create(input: CreateAccount) {
    const domainName = domainOf(input.address);
    const domain = await this.db.client.domain.findUnique({ where: { name: domainName } });
    if (!domain || domain.type !== 'local')
      throw invalidField(
        'address',
        `${domainName} is not a local domain: add it first (POST /api/v1/domains)`,
      );
    await this.assertAddressFree(input.address);
    const passwordHash = await hashPassword(input.password);
    const row = await this.db.client.account.create({
      data: {
        address: input.address,
        passwordHash,
        disabled: input.disabled,
        domainId: domain.id,
        sendAs: { create: input.sendAs.map((address) => ({ address })) },
      },
      select: SELECT,
    });
    return view(row);
  }

  list(page: PageQuery) {
    return paginate(
      { field: 'address', direction: 'asc' },
      page,
      (args) => this.db.client.account.findMany({ ...args, select: SELECT }),
      view,
    );
  }

  async get(address: string) {
    const row = await this.db.client.account.findUnique({ where: { address }, select: SELECT });
    if (!row) throw notFound(`account ${address}`);
    return view(row);
  }

  async update(address: string, input: UpdateAccount) {
    const current = await this.db.client.account.findUnique({ where: { address }, select: { id: true } });
    if (!current) throw notFound(`account ${address}`);
    const passwordHash = input.password === undefined ? undefined : await hashPassword(input.password);
    const row = await this.db.client.$transaction(async (tx) => {
      if (input.sendAs !== undefined) {
        await tx.accountSendAs.deleteMany({ where: { accountId: current.id } });
        await tx.accountSendAs.createMany({
          data: input.sendAs.map((a) => ({ accountId: current.id, address: a })),
        });
      }
      return tx.account.update({
        where: { id: current.id },
        data: { passwordHash, disabled: input.disabled, updatedAt: new Date() },
        select: SELECT,
      });
    });
    return view(row);
  }

  /** Deletes an account; it also leaves every alias it was a target of. */
  async remove(address: string): Promise<void> {
    const { count } = await this.db.client.account.deleteMany({ where: { address } });
    if (count === 0) throw notFound(`account ${address}`);
  }

  /** An address is one account or one alias, never both. */
  private async assertAddressFree(address: string): Promise<void> {
    const [account, alias] = await Promise.all([
      this.db.client.account.findUnique({ where: { address }, select: { id: true } }),
      this.db.client.alias.findUnique({ where: { address }, select: { id: true } }),
    ]);
    if (account) throw conflict(`account ${address} already exists`);
    if (alias) throw conflict(`${address} is already an alias`);
  }
}
