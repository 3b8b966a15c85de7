import { describe, expect, it } from 'vitest';
import { badFields, seedMessage, useAdminApi } from './harness';

const api = useAdminApi();

describe('suppressions', () => {
  it('adds, reads, lists and removes a suppression', async () => {
    const created = await api.request('POST', '/api/v1/suppressions', {
      body: { address: 'Gone@Example.COM', reason: 'complaint' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ address: 'Gone@example.com', reason: 'complaint', expiresAt: null });
    const later = '2099-01-01T00:00:00.000Z';
    expect(
      (
        await api.request('POST', '/api/v1/suppressions', {
          body: { address: 'later@example.com', expiresAt: later },
        })
      ).body,
    ).toMatchObject({
      reason: 'manual',
      expiresAt: later,
    });
    expect((await api.request('GET', '/api/v1/suppressions/Gone@example.com')).body.reason).toBe('complaint');
    const list = await api.request('GET', '/api/v1/suppressions');
    expect(list.body.items.map((s: { address: string }) => s.address)).toEqual([
      'Gone@example.com',
      'later@example.com',
    ]);
    expect((await api.request('DELETE', '/api/v1/suppressions/Gone@example.com')).status).toBe(204);
    expect((await api.request('GET', '/api/v1/suppressions/Gone@example.com')).status).toBe(404);
  });

  it('shows the queue id of the hard bounce that added an entry (suppressHardBounces), and removes it', async () => {
    // As the queue manager writes it (libs/queue-state recordResults): lower case, the reply, the queue id.
    await api.db.suppression.create({
      data: {
        address: 'bounced@example.org',
        reason: 'hard bounce: 550 5.1.1 no such user',
        queueId: '01M98TC9A0MXXD57',
      },
    });
    const shown = await api.request('GET', '/api/v1/suppressions/bounced@example.org');
    expect(shown.body).toMatchObject({
      address: 'bounced@example.org',
      reason: 'hard bounce: 550 5.1.1 no such user',
      queueId: '01M98TC9A0MXXD57',
    });
    const listed = (await api.request('GET', '/api/v1/suppressions')).body.items;
    expect(listed.find((s: { address: string }) => s.address === 'later@example.com')).toMatchObject({
      queueId: null,
    });
    expect((await api.request('DELETE', '/api/v1/suppressions/bounced@example.org')).status).toBe(204);
    expect((await api.request('GET', '/api/v1/suppressions/bounced@example.org')).status).toBe(404);
  });

  it('hides expired entries unless asked, and replaces an expired entry', async () => {
    await api.db.suppression.create({
      data: {
        address: 'old@example.com',
        reason: 'hard bounce',
        expiresAt: new Date('2020-01-01T00:00:00Z'),
      },
    });
    const addresses = async (query: string) =>
      (await api.request('GET', `/api/v1/suppressions${query}`)).body.items.map(
        (s: { address: string }) => s.address,
      );
    expect(await addresses('')).not.toContain('old@example.com');
    expect(await addresses('?includeExpired=true')).toContain('old@example.com');
    expect(
      (await api.request('POST', '/api/v1/suppressions', { body: { address: 'old@example.com' } })).status,
    ).toBe(201);
    expect(await addresses('')).toContain('old@example.com');
  });

  it('answers 400, 404 and 409', async () => {
    const bad = await api.request('POST', '/api/v1/suppressions', {
      body: { address: 'nope', expiresAt: 'tomorrow' },
    });
    expect(badFields(bad).sort()).toEqual(['address', 'expiresAt']);
    expect(
      (await api.request('POST', '/api/v1/suppressions', { body: { address: 'later@example.com' } })).status,
    ).toBe(409);
    expect((await api.request('DELETE', '/api/v1/suppressions/nobody@example.com')).status).toBe(404);
  });
});

describe('settings', () => {
  it('turns automatic suppression of hard bounces on and off', async () => {
    expect((await api.request('GET', '/api/v1/settings')).body).toEqual({ suppressHardBounces: false });
    const on = await api.request('PATCH', '/api/v1/settings', { body: { suppressHardBounces: true } });
    expect(on.body).toEqual({ suppressHardBounces: true });
    expect(await api.db.setting.findUnique({ where: { key: 'suppressHardBounces' } })).toMatchObject({
      value: true,
    });
    expect(
      badFields(await api.request('PATCH', '/api/v1/settings', { body: { suppressHardBounces: 'yes' } })),
    ).toEqual(['suppressHardBounces']);
    expect((await api.request('PATCH', '/api/v1/settings', { body: { unknown: 1 } })).status).toBe(400);
  });
});

describe('events', () => {
  it('lists the delivery log newest first, filtered by message, type and time', async () => {
    const m = await seedMessage(api.db, { recipients: [{ address: 'a@events.example' }] });
    const base = { messageId: m.id, queueId: m.queueId };
    await api.db.event.createMany({
      data: [
        { ...base, type: 'accepted', createdAt: new Date('2026-05-01T10:00:00Z') },
        {
          ...base,
          type: 'deferred',
          recipientId: m.recipients[0].id,
          detail: { replyCode: 451 },
          createdAt: new Date('2026-05-01T10:05:00Z'),
        },
        {
          ...base,
          type: 'delivered',
          recipientId: m.recipients[0].id,
          createdAt: new Date('2026-05-01T10:10:00Z'),
        },
      ],
    });
    const all = await api.request('GET', `/api/v1/events?messageId=${m.queueId}`);
    expect(all.body.items.map((e: { type: string }) => e.type)).toEqual([
      'delivered',
      'deferred',
      'accepted',
    ]);
    expect(all.body.items[1]).toMatchObject({
      recipient: 'a@events.example',
      detail: { replyCode: 451 },
      queueId: m.queueId,
    });
    const byUuid = await api.request('GET', `/api/v1/events?messageId=${m.id}&type=deferred`);
    expect(byUuid.body.items).toHaveLength(1);
    const since = await api.request(
      'GET',
      `/api/v1/events?messageId=${m.queueId}&since=2026-05-01T10:05:00Z`,
    );
    expect(since.body.items.map((e: { type: string }) => e.type)).toEqual(['delivered', 'deferred']);
    const page1 = await api.request('GET', `/api/v1/events?messageId=${m.queueId}&limit=2`);
    const page2 = await api.request(
      'GET',
      `/api/v1/events?messageId=${m.queueId}&limit=2&cursor=${page1.body.nextCursor}`,
    );
    expect(page2.body).toMatchObject({ items: [{ type: 'accepted' }], nextCursor: null });
  });

  it('records the API queue actions', async () => {
    const m = await seedMessage(api.db, { recipients: [{ address: 'a@events.example' }] });
    await api.request('POST', `/api/v1/messages/${m.queueId}/hold`);
    const events = await api.request('GET', `/api/v1/events?messageId=${m.queueId}&type=held`);
    expect(events.body.items).toEqual([
      expect.objectContaining({ type: 'held', detail: { by: 'bootstrap', recipients: 1 } }),
    ]);
  });

  it('answers 400 for bad filters', async () => {
    const bad = await api.request('GET', '/api/v1/events?type=exploded&since=never&messageId=%2F');
    expect(badFields(bad).sort()).toEqual(['messageId', 'since', 'type']);
  });
});
