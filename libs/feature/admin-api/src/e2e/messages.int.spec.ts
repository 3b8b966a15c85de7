import { beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_TOKEN, badFields, seedMessage, useAdminApi } from './harness';

const api = useAdminApi();

describe('reading messages', () => {
  let old: Awaited<ReturnType<typeof seedMessage>>;
  let recent: Awaited<ReturnType<typeof seedMessage>>;

  beforeAll(async () => {
    old = await seedMessage(api.db, {
      sender: 'old@example.com',
      receivedAt: new Date('2026-01-01T00:00:00Z'),
      recipients: [{ address: 'bob@read.example', status: 'delivered', attempts: 1 }],
    });
    recent = await seedMessage(api.db, {
      sender: '',
      receivedAt: new Date('2026-06-01T00:00:00Z'),
      recipients: [
        { address: 'carol@read.example', status: 'deferred', attempts: 2 },
        { address: 'dave@other-read.example', status: 'queued' },
      ],
    });
    await api.db.deliveryAttempt.create({
      data: {
        messageId: recent.id,
        recipientId: recent.recipients.find((r) => r.address.startsWith('carol'))?.id ?? '',
        mxHost: 'mx.read.example',
        ip: '192.0.2.25',
        port: 25,
        replyCode: 451,
        enhancedCode: '4.7.1',
        replyText: 'Try again later',
        tlsVersion: 'TLSv1.3',
        tlsCipher: 'TLS_AES_256_GCM_SHA384',
        tlsVerified: false,
        tlsPolicy: 'mta-sts-testing',
        finishedAt: new Date(),
      },
    });
  });

  it('lists newest first, filters, and paginates', async () => {
    const all = await api.request('GET', '/api/v1/messages?domain=read.example');
    expect(all.body.items.map((m: { queueId: string }) => m.queueId)).toEqual([recent.queueId, old.queueId]);
    const q = (query: string) =>
      api
        .request('GET', `/api/v1/messages?${query}`)
        .then((r) => r.body.items.map((m: { id: string }) => m.id));
    expect(await q('status=deferred')).toEqual([recent.id]);
    expect(await q('sender=old@example.com')).toEqual([old.id]);
    expect(await q('sender=%3C%3E')).toEqual([recent.id]);
    expect(await q('recipient=dave@other-read.example')).toEqual([recent.id]);
    expect(await q('since=2026-03-01T00:00:00Z&domain=read.example')).toEqual([recent.id]);
    expect(await q('until=2026-03-01T00:00:00Z')).toEqual([old.id]);
    const first = await api.request('GET', '/api/v1/messages?domain=read.example&limit=1');
    expect(first.body.items[0].id).toBe(recent.id);
    const second = await api.request(
      'GET',
      `/api/v1/messages?domain=read.example&limit=1&cursor=${first.body.nextCursor}`,
    );
    expect(second.body).toMatchObject({ items: [{ id: old.id }], nextCursor: null });
  });

  it('answers 400 for bad filters', async () => {
    const bad = await api.request('GET', '/api/v1/messages?status=lost&since=yesterday');
    expect(bad.status).toBe(400);
    expect(badFields(bad).sort()).toEqual(['since', 'status']);
  });

  it('shows one message: envelope, headers, recipients, attempts with TLS facts', async () => {
    for (const id of [recent.queueId, recent.id]) {
      const response = await api.request('GET', `/api/v1/messages/${id}`);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        id: recent.id,
        queueId: recent.queueId,
        sender: '',
        source: 'submission',
        recipientCount: 2,
      });
      expect(response.body.headers).toContainEqual({ name: 'Subject', value: 'Hello folded' });
      expect(response.body.recipients.map((r: { status: string }) => r.status)).toEqual([
        'deferred',
        'queued',
      ]);
      expect(response.body.attempts).toEqual([
        expect.objectContaining({
          recipient: 'carol@read.example',
          mxHost: 'mx.read.example',
          reply: { code: 451, enhanced: '4.7.1', text: 'Try again later' },
          tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', verified: false },
          tlsPolicy: 'mta-sts-testing',
        }),
      ]);
    }
    expect((await api.request('GET', '/api/v1/messages/0000000000000000')).status).toBe(404);
    expect(badFields(await api.request('GET', '/api/v1/messages/bad!id'))).toEqual(['id']);
  });

  it('returns the stored message byte exact as message/rfc822', async () => {
    const response = await fetch(`${api.base}/api/v1/messages/${old.queueId}/raw`, {
      headers: { authorization: `Bearer ${BOOTSTRAP_TOKEN}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('message/rfc822');
    const chunks = await api.db.messageChunk.findMany({
      where: { messageId: old.id },
      orderBy: { seq: 'asc' },
    });
    expect(Buffer.from(await response.arrayBuffer())).toEqual(
      Buffer.concat(chunks.map((c) => Buffer.from(c.data))),
    );
    expect((await api.request('GET', '/api/v1/messages/0000000000000000/raw')).status).toBe(404);
  });
});
