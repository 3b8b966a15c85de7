import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, formatMessageRate, parseMessageRate, type AppConfig } from '@mta/config';
import { PrismaService, type DeliveryShaping } from '@mta/db';
import { notFound } from '../common/errors';
import { paginate, type PageQuery } from '../common/pagination';
import type { PutShaping } from './shaping.schemas';

function overrideView(row: DeliveryShaping) {
  return {
    domain: row.domain,
    maxConnections: row.maxConnections,
    maxMessagesPerConnection: row.maxMessagesPerConnection,
    maxMessageRate: row.maxMessageRate,
    updatedAt: row.updatedAt,
  };
}

/** A stored rate in its canonical form (`1,000/hr` → `1000/h`). */
function canonicalRate(text: string | null): string | null {
  if (text === null) return null;
  const rate = parseMessageRate(text);
  return typeof rate === 'string' ? null : formatMessageRate(rate);
}

/**
 * Per-domain traffic shaping overrides (`delivery_shaping`). Every delivery process reloads
 * the table every `DELIVERY_SHAPING_REFRESH_MS` (libs/delivery limits/shaping.ts), so a change
 * applies within that long; null fields take the configured defaults.
 */
@Injectable()
export class ShapingService {
  constructor(
    private readonly db: PrismaService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  list(query: PageQuery) {
    return paginate(
      { field: 'domain', direction: 'asc' },
      query,
      (args) => this.db.client.deliveryShaping.findMany(args),
      overrideView,
    );
  }

  async get(domain: string) {
    const row = await this.db.client.deliveryShaping.findUnique({ where: { domain } });
    const c = this.config;
    return {
      domain,
      override: row ? overrideView(row) : null,
      effective: {
        maxConnections: row?.maxConnections ?? c.DELIVERY_MAX_CONNECTIONS,
        maxMessagesPerConnection: row?.maxMessagesPerConnection ?? c.DELIVERY_MAX_MESSAGES_PER_CONNECTION,
        maxMessageRate:
          row?.maxMessageRate ??
          (c.DELIVERY_MAX_MESSAGE_RATE ? formatMessageRate(c.DELIVERY_MAX_MESSAGE_RATE) : null),
      },
    };
  }

  async put(domain: string, input: PutShaping) {
    const data = { ...input, maxMessageRate: canonicalRate(input.maxMessageRate) };
    await this.db.client.deliveryShaping.upsert({
      where: { domain },
      create: { domain, ...data },
      update: data,
    });
    return this.get(domain);
  }

  async remove(domain: string): Promise<void> {
    const { count } = await this.db.client.deliveryShaping.deleteMany({ where: { domain } });
    if (count === 0) throw notFound(`shaping override of ${domain}`);
  }
}
