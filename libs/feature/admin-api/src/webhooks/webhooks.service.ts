import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { AppConfig } from '@mta/config';
import { PrismaService, type Prisma, type WebhookEndpoint } from '@mta/db';
import { APP_CONFIG } from '@mta/runtime';
import { checkWebhookUrl, encryptSecret, generateSecret, parseSecretKey } from '@mta/webhooks';
import type { WebhookEventType } from '@mta/webhooks/schemas';
import { ApiError, conflict, invalidField, notFound } from '../common/errors';
import { paginate, type PageQuery } from '../common/pagination';
import type { CreateWebhook, ListDeliveriesQuery, UpdateWebhook } from './webhooks.schemas';

function view(row: WebhookEndpoint) {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: row.eventTypes,
    domain: row.domain,
    sender: row.sender,
    batch: row.batch,
    enabled: row.enabled,
    disabledReason: row.disabledReason,
    disabledAt: row.disabledAt,
    failingSince: row.failingSince,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const DELIVERY_SELECT = {
  id: true,
  eventId: true,
  eventType: true,
  status: true,
  attempts: true,
  nextAttemptAt: true,
  lastStatus: true,
  lastError: true,
  lastLatencyMs: true,
  deliveredAt: true,
  createdAt: true,
  attemptsLog: {
    select: { at: true, statusCode: true, latencyMs: true, error: true },
    orderBy: { at: 'asc' },
  },
} as const satisfies Prisma.WebhookDeliverySelect;

type DeliveryRow = Prisma.WebhookDeliveryGetPayload<{ select: typeof DELIVERY_SELECT }>;

/** The successful attempt of a delivered delivery: kept in its row, not in `webhook_attempts`. */
function successOf(row: Pick<DeliveryRow, 'deliveredAt' | 'lastStatus' | 'lastLatencyMs'>) {
  return row.deliveredAt
    ? { at: row.deliveredAt, statusCode: row.lastStatus, latencyMs: row.lastLatencyMs ?? 0, error: null }
    : undefined;
}

function deliveryView(row: DeliveryRow) {
  const { attemptsLog, nextAttemptAt, lastLatencyMs: _latency, ...rest } = row;
  const success = row.status === 'delivered' ? successOf(row) : undefined;
  return {
    ...rest,
    nextAttemptAt: row.status === 'pending' ? nextAttemptAt : null,
    attemptLog: success ? [...attemptsLog, success] : attemptsLog,
  };
}

/** Webhook endpoints and their deliveries (libs/webhooks sends them). */
@Injectable()
export class WebhooksService {
  private readonly key?: Buffer;

  constructor(
    private readonly db: PrismaService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    const key = config.WEBHOOK_SECRET_KEY ? parseSecretKey(config.WEBHOOK_SECRET_KEY) : undefined;
    if (Buffer.isBuffer(key)) this.key = key;
  }

  /** The secret key, or 503: the API cannot store a secret it could not read back. */
  private secretKey(): Buffer {
    if (!this.key)
      throw new ApiError(
        503,
        'webhooks_off',
        'webhooks are off: set WEBHOOK_SECRET_KEY (32 bytes, base64) to use them',
      );
    return this.key;
  }

  private checkUrl(url: string): string {
    const checked = checkWebhookUrl(url, this.config.WEBHOOK_ALLOW_PRIVATE);
    if (typeof checked === 'string') throw invalidField('url', checked);
    return checked.toString();
  }

  /** Creates an endpoint; the only time its secret is returned. */
  async create(body: CreateWebhook) {
    const key = this.secretKey();
    const url = this.checkUrl(body.url);
    const secret = generateSecret();
    const row = await this.db.client.webhookEndpoint.create({
      data: {
        url,
        description: body.description ?? null,
        eventTypes: [...new Set(body.eventTypes)],
        domain: body.domain ?? null,
        sender: body.sender ?? null,
        enabled: body.enabled,
        batch: body.batch,
        disabledReason: body.enabled ? null : 'created disabled',
        disabledAt: body.enabled ? null : new Date(),
        secretEnc: encryptSecret(key, secret),
      },
    });
    return { ...view(row), secret };
  }

  list(page: PageQuery) {
    this.secretKey();
    return paginate(
      { field: 'createdAt', direction: 'desc', time: true },
      page,
      (args) => this.db.client.webhookEndpoint.findMany(args),
      view,
    );
  }

  private async row(id: string): Promise<WebhookEndpoint> {
    this.secretKey();
    const row = await this.db.client.webhookEndpoint.findUnique({ where: { id } });
    if (!row) throw notFound(`webhook ${id}`);
    return row;
  }

  async get(id: string) {
    return view(await this.row(id));
  }

  async update(id: string, body: UpdateWebhook) {
    const before = await this.row(id);
    const enabling = body.enabled === true && !before.enabled;
    const disabling = body.enabled === false && before.enabled;
    const row = await this.db.client.webhookEndpoint.update({
      where: { id },
      data: {
        ...(body.url !== undefined ? { url: this.checkUrl(body.url) } : {}),
        ...(body.eventTypes ? { eventTypes: [...new Set(body.eventTypes)] } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.domain !== undefined ? { domain: body.domain } : {}),
        ...(body.sender !== undefined ? { sender: body.sender } : {}),
        ...(body.batch !== undefined ? { batch: body.batch } : {}),
        ...(enabling ? { enabled: true, disabledReason: null, disabledAt: null, failingSince: null } : {}),
        ...(disabling
          ? { enabled: false, disabledReason: 'disabled through the API', disabledAt: new Date() }
          : {}),
      },
    });
    return view(row);
  }

  async remove(id: string): Promise<void> {
    await this.row(id);
    await this.db.client.webhookEndpoint.delete({ where: { id } });
  }

  /** Queues a `test` event for the endpoint (whatever types it wants); the delivery's id. */
  async test(id: string) {
    const endpoint = await this.row(id);
    if (!endpoint.enabled) throw conflict(`webhook ${id} is disabled: enable it first`);
    const eventId = randomUUID();
    const type: WebhookEventType = 'test';
    const payload = {
      id: eventId,
      type,
      timestamp: new Date().toISOString(),
      data: { message: 'a test event from the MTA', endpointId: id },
    };
    const delivery = await this.db.client.webhookDelivery.create({
      data: { endpointId: id, eventType: type, payload },
      select: DELIVERY_SELECT,
    });
    return deliveryView(delivery);
  }

  async deliveries(id: string, query: ListDeliveriesQuery) {
    await this.row(id);
    const where: Prisma.WebhookDeliveryWhereInput = {
      endpointId: id,
      ...(query.status ? { status: query.status } : {}),
    };
    return paginate(
      { field: 'createdAt', direction: 'desc', time: true },
      query,
      (args) =>
        this.db.client.webhookDelivery.findMany({
          ...args,
          where: { AND: [where, args.where] },
          select: DELIVERY_SELECT,
        }),
      deliveryView,
    );
  }

  /**
   * Sends a delivery again (whatever its status): due now, retried for another window. The
   * receiver sees the same `webhook-id` and event id, so it can tell a replay from news.
   */
  async replay(id: string, deliveryId: string) {
    const endpoint = await this.row(id);
    if (!endpoint.enabled) throw conflict(`webhook ${id} is disabled: enable it first`);
    const found = await this.db.client.webhookDelivery.findFirst({
      where: { id: deliveryId, endpointId: id },
    });
    if (!found) throw notFound(`delivery ${deliveryId} of webhook ${id}`);
    // A delivered one's success leaves its row now: kept in the attempt log, as failures are.
    const success = found.status === 'delivered' ? successOf(found) : undefined;
    const [, row] = await this.db.client.$transaction([
      this.db.client.webhookAttempt.createMany({ data: success ? [{ deliveryId, ...success }] : [] }),
      this.db.client.webhookDelivery.update({
        where: { id: deliveryId },
        data: { status: 'pending', nextAttemptAt: new Date(), createdAt: new Date(), deliveredAt: null },
        select: DELIVERY_SELECT,
      }),
    ]);
    return deliveryView(row);
  }
}
