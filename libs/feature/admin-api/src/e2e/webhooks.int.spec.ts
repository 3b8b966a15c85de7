import { randomBytes } from 'node:crypto';
import { createTestDatabase, createTestRedis, freePort } from '@mta/testing';
import { describe, expect, it } from 'vitest';
import { badFields, startAdminApi, useAdminApi } from './harness';

const KEY = randomBytes(32).toString('base64');
const api = useAdminApi({ WEBHOOK_SECRET_KEY: KEY });

const hook = (url: string, extra: Record<string, unknown> = {}) => ({
  url,
  eventTypes: ['delivered'],
  ...extra,
});

describe('/api/v1/webhooks', () => {
  it('creates an endpoint and shows its secret once; the row holds it only encrypted', async () => {
    const created = await api.request('POST', '/api/v1/webhooks', {
      body: hook('https://hooks.example.com/mta', {
        eventTypes: ['delivered', 'bounced', 'delivered'],
        domain: 'Example.ORG',
      }),
    });
    expect(created.status).toBe(201);
    const { id, secret } = created.body;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created.body).toMatchObject({
      eventTypes: ['delivered', 'bounced'],
      domain: 'example.org',
      enabled: true,
    });
    const row = await api.db.webhookEndpoint.findUniqueOrThrow({ where: { id } });
    expect(Buffer.from(row.secretEnc).toString('latin1')).not.toContain(secret.slice(6));
    const got = await api.request('GET', `/api/v1/webhooks/${id}`);
    expect(got.status).toBe(200);
    expect(got.text).not.toContain(secret.slice(6));
    expect(got.body.secret).toBeUndefined();
    const list = await api.request('GET', '/api/v1/webhooks');
    expect(list.body.items.map((w: { id: string }) => w.id)).toContain(id);
    expect(list.text).not.toContain(secret.slice(6));
  });

  it.each([
    ['http://127.0.0.1:8080/hook', /127\.0\.0\.1 is a loopback address; set WEBHOOK_ALLOW_PRIVATE=true/],
    ['http://10.0.0.7/hook', /private \(RFC 1918\)/],
    ['http://169.254.169.254/latest/meta-data/', /link-local/],
    ['http://[::1]/hook', /loopback/],
    ['http://[::ffff:192.168.0.1]/hook', /IPv4 inside IPv6, private/],
    ['http://[fe80::1]/hook', /link-local/],
    ['http://localhost:9000/', /loopback name/],
    ['ftp://hooks.example.com/', /only http:\/\/ and https:\/\//],
  ])('refuses %s without WEBHOOK_ALLOW_PRIVATE (400, url)', async (url, message) => {
    const response = await api.request('POST', '/api/v1/webhooks', { body: hook(url) });
    expect(response.status).toBe(400);
    expect(badFields(response)).toEqual(['url']);
    expect(response.body.error.fields[0].message).toMatch(message);
  });

  it('refuses a private URL on update too, and unknown event types', async () => {
    const { id } = (await api.request('POST', '/api/v1/webhooks', { body: hook('https://a.example.com/') }))
      .body;
    const update = await api.request('PATCH', `/api/v1/webhooks/${id}`, {
      body: { url: 'http://192.168.1.1/' },
    });
    expect(update.status).toBe(400);
    expect(badFields(update)).toEqual(['url']);
    expect(
      badFields(
        await api.request('POST', '/api/v1/webhooks', {
          body: hook('https://a.example.com/', { eventTypes: ['nope'] }),
        }),
      ),
    ).toEqual(['eventTypes.0']);
    expect(
      badFields(
        await api.request('POST', '/api/v1/webhooks', {
          body: hook('https://a.example.com/', { eventTypes: [] }),
        }),
      ),
    ).toEqual(['eventTypes']);
  });

  it('updates, disables with a reason, enables, tests and deletes', async () => {
    const { id } = (await api.request('POST', '/api/v1/webhooks', { body: hook('https://b.example.com/') }))
      .body;
    const off = await api.request('PATCH', `/api/v1/webhooks/${id}`, {
      body: { enabled: false, sender: 'App@Example.com' },
    });
    expect(off.body).toMatchObject({
      enabled: false,
      disabledReason: 'disabled through the API',
      sender: 'app@example.com',
    });
    expect((await api.request('POST', `/api/v1/webhooks/${id}/test`)).status).toBe(409);
    const on = await api.request('PATCH', `/api/v1/webhooks/${id}`, { body: { enabled: true } });
    expect(on.body).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null });
    const test = await api.request('POST', `/api/v1/webhooks/${id}/test`);
    expect(test.status).toBe(202);
    expect(test.body).toMatchObject({ eventType: 'test', status: 'pending', attempts: 0, attemptLog: [] });
    const deliveries = await api.request('GET', `/api/v1/webhooks/${id}/deliveries`);
    expect(deliveries.body.items.map((d: { id: string }) => d.id)).toEqual([test.body.id]);
    expect((await api.request('DELETE', `/api/v1/webhooks/${id}`)).status).toBe(204);
    expect((await api.request('GET', `/api/v1/webhooks/${id}`)).status).toBe(404);
    expect(await api.db.webhookDelivery.count({ where: { endpointId: id } })).toBe(0);
  });

  it('batches by default (`batch`, true unless false is asked), and changes it by PATCH', async () => {
    const single = await api.request('POST', '/api/v1/webhooks', {
      body: hook('https://f.example.com/', { batch: false }),
    });
    expect(single.body.batch).toBe(false);
    const batched = await api.request('POST', '/api/v1/webhooks', { body: hook('https://g.example.com/') });
    expect(batched.status).toBe(201);
    expect(batched.body.batch).toBe(true);
    const off = await api.request('PATCH', `/api/v1/webhooks/${batched.body.id}`, { body: { batch: false } });
    expect(off.body.batch).toBe(false);
    expect((await api.request('GET', `/api/v1/webhooks/${batched.body.id}`)).body.batch).toBe(false);
    const bad = await api.request('POST', '/api/v1/webhooks', {
      body: hook('https://g.example.com/', { batch: 'yes' }),
    });
    expect(badFields(bad)).toEqual(['batch']);
  });

  it('lists the successful attempt (kept in the delivery row) after the failed ones, and keeps it on replay', async () => {
    const { id } = (await api.request('POST', '/api/v1/webhooks', { body: hook('https://h.example.com/') }))
      .body;
    const delivery = (await api.request('POST', `/api/v1/webhooks/${id}/test`)).body;
    const failedAt = new Date(Date.now() - 60_000);
    const deliveredAt = new Date(Date.now() - 30_000);
    // As the sender records them: a 503, then a 200 written into the row alone.
    await api.db.webhookAttempt.create({
      data: { deliveryId: delivery.id, at: failedAt, statusCode: 503, latencyMs: 12, error: 'HTTP 503' },
    });
    await api.db.webhookDelivery.update({
      where: { id: delivery.id },
      data: { status: 'delivered', attempts: 2, lastStatus: 200, lastLatencyMs: 7, deliveredAt },
    });
    const log = [
      { at: failedAt.toISOString(), statusCode: 503, latencyMs: 12, error: 'HTTP 503' },
      { at: deliveredAt.toISOString(), statusCode: 200, latencyMs: 7, error: null },
    ];
    const listed = await api.request('GET', `/api/v1/webhooks/${id}/deliveries`);
    expect(listed.body.items[0]).toMatchObject({ status: 'delivered', attempts: 2, attemptLog: log });
    const replayed = await api.request('POST', `/api/v1/webhooks/${id}/deliveries/${delivery.id}/replay`);
    expect(replayed.status).toBe(202);
    expect(replayed.body).toMatchObject({ status: 'pending', deliveredAt: null, attemptLog: log });
  });

  it('writes a delivery per matching endpoint in the same transaction as the event (the outbox trigger)', async () => {
    const all = (
      await api.request('POST', '/api/v1/webhooks', {
        body: hook('https://c.example.com/', { eventTypes: ['accepted'] }),
      })
    ).body;
    const other = (
      await api.request('POST', '/api/v1/webhooks', {
        body: hook('https://d.example.com/', { eventTypes: ['accepted'], domain: 'other.test' }),
      })
    ).body;
    const mine = (
      await api.request('POST', '/api/v1/webhooks', {
        body: hook('https://e.example.com/', { eventTypes: ['accepted'], sender: 'alice@sender.test' }),
      })
    ).body;
    const message = await api.db.message.create({
      data: {
        queueId: 'WEBHOOKTRIGGER01',
        source: 'mx',
        sender: 'Alice@sender.test',
        size: 1,
        recipients: { create: { address: 'bob@far.test', domain: 'far.test' } },
      },
      include: { recipients: true },
    });
    const event = await api.db.event.create({
      data: {
        type: 'accepted',
        messageId: message.id,
        queueId: message.queueId,
        recipientId: message.recipients[0].id,
      },
    });
    // A rolled back event leaves no delivery either.
    await api.db
      .$transaction(async (tx) => {
        await tx.event.create({
          data: { type: 'accepted', messageId: message.id, queueId: 'ROLLEDBACK000000' },
        });
        throw new Error('roll back');
      })
      .catch(() => undefined);
    const rows = await api.db.webhookDelivery.findMany({ where: { eventType: 'accepted' } });
    expect(rows.map((r) => r.endpointId).sort()).toEqual([all.id, mine.id].sort());
    expect(rows.every((r) => r.eventId === event.id)).toBe(true);
    expect(other.id).toBeDefined();
  });

  it('answers 503 naming WEBHOOK_SECRET_KEY when it is unset', async () => {
    const [db, redis] = await Promise.all([createTestDatabase(), createTestRedis()]);
    const off = await startAdminApi({
      databaseUrl: db.url,
      redisUrl: redis.url,
      redisPrefix: redis.prefix,
      port: await freePort(),
    });
    try {
      for (const [method, path] of [
        ['GET', '/api/v1/webhooks'],
        ['POST', '/api/v1/webhooks'],
      ] as const) {
        const response = await off.request(
          method,
          path,
          method === 'POST' ? { body: hook('https://x.example.com/') } : {},
        );
        expect(response.status).toBe(503);
        expect(response.body.error.message).toMatch(/set WEBHOOK_SECRET_KEY/);
      }
    } finally {
      await off.close();
      await Promise.all([db.drop(), redis.cleanup()]);
    }
  });
});
