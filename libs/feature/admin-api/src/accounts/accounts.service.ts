import { Injectable } from '@nestjs/common';
import { hashPassword } from '@mta/auth';
import { Prisma, PrismaService } from '@mta/db';
import { AccountRateLimits } from '@mta/policy';
import type { z } from 'zod';
import { conflict, invalidField, notFound } from '../common/errors';
import { domainOf } from '../common/names';
import { paginate, type PageQuery } from '../common/pagination';
import type { CreateAccount, UpdateAccount } from './accounts.schemas';

/** What is read for the API: never the password hash. */
const SELECT = {
  id: true,
  address: true,
  disabled: true,
  rateLimits: true,
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

const LIMIT_NAMES = ['messagesPerHour', 'messagesPerDay', 'recipientsPerHour', 'recipientsPerDay'] as const;

/** The stored limits with every key, null where the account uses the default. */
function limitsView(stored: unknown) {
  const parsed = AccountRateLimits.safeParse(stored ?? {});
  const own = parsed.success ? parsed.data : {};
  return {
    messagesPerHour: own.messagesPerHour ?? null,
    messagesPerDay: own.messagesPerDay ?? null,
    recipientsPerHour: own.recipientsPerHour ?? null,
    recipientsPerDay: own.recipientsPerDay ?? null,
  };
}

/** What is stored: only the limits that are set; none at all is SQL NULL. */
function limitsData(input: z.output<typeof AccountRateLimits> | null | undefined) {
  if (input === undefined) return undefined;
  const set = Object.fromEntries(
    LIMIT_NAMES.flatMap((name) => (typeof input?.[name] === 'number' ? [[name, input[name]]] : [])),
  );
  return Object.keys(set).length === 0 ? Prisma.DbNull : set;
}

function view(row: Row) {
  return {
    id: row.id,
    address: row.address,
    domain: row.domain.name,
    sendAs: row.sendAs.map((s) => s.address),
    disabled: row.disabled,
    rateLimits: limitsView(row['rateLimits']),
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
        rateLimits: limitsData(input.rateLimits),
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
        data: {
          passwordHash,
          disabled: input.disabled,
          rateLimits: limitsData(input.rateLimits),
          updatedAt: new Date(),
        },
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
