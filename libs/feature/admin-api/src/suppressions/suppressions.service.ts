import { Injectable } from '@nestjs/common';
import { PrismaService, type Suppression } from '@mta/db';
import { conflict, notFound } from '../common/errors';
import { paginate } from '../common/pagination';
import type { CreateSuppression, ListSuppressionsQuery } from './suppressions.schemas';

function view(row: Suppression) {
  return {
    id: row.id,
    address: row.address,
    reason: row.reason,
    queueId: row.queueId,
    expiresAt: row.expiresAt,
    createdAt: row.createdAt,
  };
}

const isActive = (row: Suppression, now = new Date()) => row.expiresAt === null || row.expiresAt > now;

/**
 * Addresses delivery must not send to. The queue manager's dispatcher fails a recipient whose
 * address has an active entry (550 5.7.1, the entry's reason in the DSN). Hard bounces add
 * entries by themselves when the `suppressHardBounces` setting is on (see SettingsService), in
 * lower case: look them up as the list shows them.
 */
@Injectable()
export class SuppressionsService {
  constructor(private readonly db: PrismaService) {}

  /** Adds an address; an expired entry for it is replaced, an active one is a conflict. */
  async create(input: CreateSuppression) {
    const existing = await this.db.client.suppression.findUnique({ where: { address: input.address } });
    if (existing && isActive(existing)) throw conflict(`${input.address} is already suppressed`);
    const data = {
      reason: input.reason,
      queueId: null,
      expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
    };
    const row = existing
      ? await this.db.client.suppression.update({
          where: { id: existing.id },
          data: { ...data, createdAt: new Date() },
        })
      : await this.db.client.suppression.create({ data: { address: input.address, ...data } });
    return view(row);
  }

  list(query: ListSuppressionsQuery) {
    const where = query.includeExpired
      ? {}
      : { OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }] };
    return paginate(
      { field: 'address', direction: 'asc' },
      query,
      (args) => this.db.client.suppression.findMany({ ...args, where: { AND: [where, args.where] } }),
      view,
    );
  }

  async get(address: string) {
    const row = await this.db.client.suppression.findUnique({ where: { address } });
    if (!row) throw notFound(`suppression of ${address}`);
    return view(row);
  }

  async remove(address: string): Promise<void> {
    const { count } = await this.db.client.suppression.deleteMany({ where: { address } });
    if (count === 0) throw notFound(`suppression of ${address}`);
  }
}
