import { beforeAll, describe, expect, it } from 'vitest';
import { JobProducer, QueueName } from '@mta/queue';
import { badFields, seedMessage, useAdminApi } from './harness';

const api = useAdminApi();

const deliveryJob = (id: string) => api.app.get(JobProducer).queue(QueueName.Delivery).getJob(id);
const acceptedJob = (id: string) => api.app.get(JobProducer).queue(QueueName.Accepted).getJob(id);

describe('queue actions', () => {
  it('retry makes pending recipients due now and enqueues one delivery job per destination', async () => {
    const m = await seedMessage(api.db, {
      recipients: [
        { address: 'a@retry.example', status: 'deferred', attempts: 2 },
        { address: 'b@retry.example', status: 'delivered', attempts: 1 },
      ],
    });
    const before = Date.now();
    const response = await api.request('POST', `/api/v1/messages/${m.queueId}/retry`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      changed: 1,
      enqueued: [`delivery/${m.id}/remote/retry.example/3`],
    });
    const job = await deliveryJob(`delivery/${m.id}/remote/retry.example/3`);
    expect(job?.data).toEqual({
      messageId: m.id,
      route: 'remote',
      destination: 'retry.example',
      recipientIds: [m.recipients[0].id],
      attempt: 3,
    });
    const row = await api.db.recipient.findUniqueOrThrow({ where: { id: m.recipients[0].id } });
    expect(row.status).toBe('queued');
    expect(row.nextAttemptAt?.getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it('retry runs a delivery job the queue manager had scheduled for later now', async () => {
    const m = await seedMessage(api.db, {
      recipients: [{ address: 'a@later.example', status: 'deferred', attempts: 1 }],
    });
    const job = {
      messageId: m.id,
      route: 'remote' as const,
      destination: 'later.example',
      recipientIds: [m.recipients[0].id],
      attempt: 2,
    };
    const jobId = await api.app.get(JobProducer).enqueue(QueueName.Delivery, job, { delay: 3_600_000 });
    expect(await (await deliveryJob(jobId))?.getState()).toBe('delayed');
    expect((await api.request('POST', `/api/v1/messages/${m.queueId}/retry`)).body.enqueued).toEqual([jobId]);
    expect(await (await deliveryJob(jobId))?.getState()).toBe('waiting');
  });

  it('holding stops delivery (jobs withdrawn, recipients held) and releasing resumes it', async () => {
    const m = await seedMessage(api.db, {
      recipients: [{ address: 'a@hold.example' }, { address: 'b@hold2.example', attempts: 1 }],
    });
    await api.request('POST', `/api/v1/messages/${m.queueId}/retry`);
    const jobIds = [`delivery/${m.id}/remote/hold.example/1`, `delivery/${m.id}/remote/hold2.example/2`];
    for (const id of jobIds) expect(await deliveryJob(id)).toBeDefined();

    const held = await api.request('POST', `/api/v1/messages/${m.queueId}/hold`);
    expect(held.status).toBe(200);
    expect(held.body).toMatchObject({ changed: 2, message: { state: 'held' } });
    for (const id of jobIds) expect(await deliveryJob(id)).toBeUndefined();
    expect((await api.db.recipient.findMany({ where: { messageId: m.id } })).map((r) => r.status)).toEqual([
      'held',
      'held',
    ]);
    expect((await api.request('POST', `/api/v1/messages/${m.queueId}/retry`)).status).toBe(409);
    expect((await api.request('POST', `/api/v1/messages/${m.queueId}/hold`)).status).toBe(409);

    const released = await api.request('POST', `/api/v1/messages/${m.queueId}/release`);
    expect(released.status).toBe(200);
    expect(released.body).toMatchObject({ changed: 2, message: { state: 'queued' } });
    expect(released.body.enqueued.sort()).toEqual(jobIds);
    for (const id of jobIds) expect(await deliveryJob(id)).toBeDefined();
    expect((await api.db.recipient.findMany({ where: { messageId: m.id } })).map((r) => r.status)).toEqual([
      'queued',
      'queued',
    ]);
    expect((await api.request('POST', `/api/v1/messages/${m.queueId}/release`)).status).toBe(409);
    const types = (
      await api.db.event.findMany({ where: { messageId: m.id }, orderBy: { createdAt: 'asc' } })
    ).map((e) => e.type);
    expect(types).toEqual(['held', 'released']);
  });

  it('releasing a message not routed yet hands it to the queue manager (accepted job)', async () => {
    const m = await seedMessage(api.db, {
      state: 'received',
      recipients: [{ address: 'a@unrouted.example', route: null }],
    });
    expect((await api.request('POST', `/api/v1/messages/${m.id}/hold`)).status).toBe(200);
    const released = await api.request('POST', `/api/v1/messages/${m.id}/release`);
    expect(released.body).toMatchObject({ message: { state: 'received' }, enqueued: [`accepted/${m.id}`] });
    expect(await acceptedJob(`accepted/${m.id}`)).toBeDefined();
  });

  it('deletes silently (204), or fails the open recipients for a bounce (200)', async () => {
    const silent = await seedMessage(api.db, { recipients: [{ address: 'a@delete.example' }] });
    expect((await api.request('DELETE', `/api/v1/messages/${silent.queueId}?bounce=false`)).status).toBe(204);
    expect(await api.db.message.count({ where: { id: silent.id } })).toBe(0);
    expect(
      await api.db.event.findFirst({ where: { queueId: silent.queueId, type: 'deleted' } }),
    ).toMatchObject({ messageId: null });

    const bounced = await seedMessage(api.db, {
      recipients: [{ address: 'a@delete.example' }, { address: 'b@delete.example', status: 'delivered' }],
    });
    const response = await api.request('DELETE', `/api/v1/messages/${bounced.queueId}?bounce=true`);
    expect(response.status).toBe(200);
    expect(response.body.changed).toBe(1);
    const statuses = (
      await api.db.recipient.findMany({ where: { messageId: bounced.id }, orderBy: { address: 'asc' } })
    ).map((r) => r.status);
    expect(statuses).toEqual(['failed', 'delivered']);
    expect((await api.request('DELETE', `/api/v1/messages/${bounced.queueId}?bounce=true`)).status).toBe(409);
    expect((await api.request('DELETE', '/api/v1/messages/0000000000000000')).status).toBe(404);
    expect(
      badFields(await api.request('DELETE', `/api/v1/messages/${bounced.queueId}?bounce=maybe`)),
    ).toEqual(['bounce']);
  });

  it('404 for actions on an unknown message', async () => {
    for (const action of ['retry', 'hold', 'release'])
      expect((await api.request('POST', `/api/v1/messages/0000000000000000/${action}`)).status).toBe(404);
  });
});

describe('queue overview and destination pauses', () => {
  beforeAll(async () => {
    await seedMessage(api.db, {
      receivedAt: new Date('2026-01-01T00:00:00Z'),
      recipients: [
        { address: 'a@overview.example', status: 'delivered', attempts: 1 },
        { address: 'b@overview.example' },
      ],
    });
  });

  it('counts by status and destination, and reports the oldest message', async () => {
    const response = await api.request('GET', '/api/v1/queue');
    expect(response.status).toBe(200);
    const { recipients, messages, destinations, oldest } = response.body;
    expect(recipients.delivered).toBeGreaterThan(0);
    expect(recipients.queued + recipients.deferred).toBe(
      await api.db.recipient.count({ where: { status: { in: ['queued', 'deferred'] } } }),
    );
    expect(messages.queued).toBeGreaterThan(0);
    expect(destinations.find((d: { domain: string }) => d.domain === 'hold.example')).toMatchObject({
      queued: 1,
      total: 1,
      paused: false,
    });
    expect(oldest.receivedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(oldest.ageSeconds).toBeGreaterThan(0);
    const page = await api.request('GET', '/api/v1/queue/domains?limit=2');
    expect(page.body.items).toHaveLength(2);
    expect(page.body.nextCursor).toEqual(expect.any(String));
    const next = await api.request('GET', `/api/v1/queue/domains?limit=2&cursor=${page.body.nextCursor}`);
    expect(next.body.items[0].domain > page.body.items[1].domain).toBe(true);
    expect(badFields(await api.request('GET', '/api/v1/queue/domains?limit=1000'))).toEqual(['limit']);
  });

  it('a paused destination gets no jobs until resumed', async () => {
    const paused = await api.request('POST', '/api/v1/queue/domains/Paused.example/pause', {
      body: { reason: 'their MX is down' },
    });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({
      domain: 'paused.example',
      reason: 'their MX is down',
      pausedUntil: null,
    });
    expect((await api.request('GET', '/api/v1/queue')).body.paused).toContainEqual(
      expect.objectContaining({ domain: 'paused.example' }),
    );

    const m = await seedMessage(api.db, {
      recipients: [{ address: 'a@paused.example', status: 'deferred', attempts: 1 }],
    });
    const retried = await api.request('POST', `/api/v1/messages/${m.queueId}/retry`);
    expect(retried.body.enqueued).toEqual([]);
    expect(await deliveryJob(`delivery/${m.id}/remote/paused.example/2`)).toBeUndefined();

    const resumed = await api.request('POST', '/api/v1/queue/domains/paused.example/resume');
    expect(resumed.status).toBe(200);
    expect(resumed.body.enqueued).toEqual([`delivery/${m.id}/remote/paused.example/2`]);
    expect(await deliveryJob(`delivery/${m.id}/remote/paused.example/2`)).toBeDefined();
    expect((await api.request('POST', '/api/v1/queue/domains/paused.example/resume')).status).toBe(404);
    expect(badFields(await api.request('POST', '/api/v1/queue/domains/not_a_domain/pause'))).toEqual([
      'domain',
    ]);
    expect(
      badFields(
        await api.request('POST', '/api/v1/queue/domains/x.example/pause', { body: { until: 'soon' } }),
      ),
    ).toEqual(['until']);
  });
});
