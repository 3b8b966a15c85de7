import { until } from '@mta/testing';
import { describe, expect, it } from 'vitest';
import { BOOTSTRAP_TOKEN, useAdminApi } from './harness';

const api = useAdminApi();

/** An open GET /api/v1/events/stream: the events it has sent so far (parsed `data:` lines). */
async function openStream(query: string) {
  const done = new AbortController();
  const response = await fetch(`${api.base}/api/v1/events/stream${query}`, {
    headers: { authorization: `Bearer ${BOOTSTRAP_TOKEN}` },
    signal: done.signal,
  });
  const events: { id: string; type: string; queueId: string | null }[] = [];
  const ids: string[] = [];
  let text = '';
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of response.body ?? []) {
      text += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        for (const line of block.split('\n')) {
          if (line.startsWith('data: ')) events.push(JSON.parse(line.slice(6)));
          if (line.startsWith('id: ')) ids.push(line.slice(4));
        }
      }
    }
  })().catch(() => undefined);
  return { response, events, ids, close: async () => (done.abort(), await reading) };
}

const event = (type: 'accepted' | 'delivered' | 'deferred', queueId: string, createdAt?: Date) =>
  api.db.event.create({ data: { type, queueId, ...(createdAt ? { createdAt } : {}) } });

describe('GET /api/v1/events/stream (Server-Sent Events)', () => {
  it('sends new events as they happen, oldest first, with the list filters', async () => {
    await event('delivered', 'BEFORETHESTREAM0');
    const all = await openStream('');
    const delivered = await openStream('?type=delivered');
    const one = await openStream('?messageId=STREAMEDMESSAGE1');
    try {
      expect(all.response.status).toBe(200);
      expect(all.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const a = await event('accepted', 'STREAMEDMESSAGE1');
      const b = await event('delivered', 'STREAMEDMESSAGE1');
      const c = await event('delivered', 'STREAMEDMESSAGE2');
      // Committed late: created a second ago, inserted now (a transaction that started earlier).
      const late = await event('deferred', 'STREAMEDMESSAGE2', new Date(Date.now() - 1000));
      await until('all four on the stream', () => all.events.length >= 4);
      await until('the filtered streams', () => delivered.events.length >= 2 && one.events.length >= 2);
      expect(all.events.map((e) => e.id).sort()).toEqual([a.id, b.id, c.id, late.id].sort());
      expect(all.ids.sort()).toEqual([a.id, b.id, c.id, late.id].sort());
      expect(delivered.events.map((e) => e.id)).toEqual([b.id, c.id]);
      expect(one.events.map((e) => e.id)).toEqual([a.id, b.id]);
      expect(all.events.map((e) => e.queueId)).not.toContain('BEFORETHESTREAM0');
    } finally {
      await Promise.all([all.close(), delivered.close(), one.close()]);
    }
  });

  it('starts from `since` when given', async () => {
    const since = new Date(Date.now() - 60_000).toISOString();
    const old = await event('accepted', 'SINCEMESSAGE0001', new Date(Date.now() - 30_000));
    const stream = await openStream(`?since=${encodeURIComponent(since)}&messageId=SINCEMESSAGE0001`);
    try {
      await until('the old event', () => stream.events.length >= 1);
      expect(stream.events.map((e) => e.id)).toEqual([old.id]);
    } finally {
      await stream.close();
    }
  });

  it('needs a token, and refuses bad filters', async () => {
    expect((await fetch(`${api.base}/api/v1/events/stream`)).status).toBe(401);
    const bad = await api.request('GET', '/api/v1/events/stream?type=nope');
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields.map((f: { field: string }) => f.field)).toEqual(['type']);
  });
});
