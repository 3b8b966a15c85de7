/**
 * `/api/v1/shaping`: per-domain traffic shaping overrides, stored in `delivery_shaping`, and
 * read by the delivery processes (`createDeliveryAgents` of @mta/delivery, with its refresh
 * time) so that an override the API accepts is the one delivery applies.
 */
import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createPgPool } from '@mta/db';
import { createDeliveryAgents } from '@mta/delivery';
import { until } from '@mta/testing';
import { badFields, useAdminApi } from './harness';

const api = useAdminApi({ DELIVERY_MAX_CONNECTIONS: '7', DELIVERY_MAX_MESSAGE_RATE: '600/min' });

describe('traffic shaping overrides', () => {
  it('shows the defaults of a domain without an override', async () => {
    const res = await api.request('GET', '/api/v1/shaping/Quiet.Example');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      domain: 'quiet.example',
      override: null,
      effective: { maxConnections: 7, maxMessagesPerConnection: 100, maxMessageRate: '600/min' },
    });
  });

  it('sets, lists, replaces and removes an override; null fields take the defaults', async () => {
    const put = await api.request('PUT', '/api/v1/shaping/small-isp.example', {
      body: { maxConnections: 2, maxMessageRate: '1,000/hr' },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      domain: 'small-isp.example',
      override: { maxConnections: 2, maxMessagesPerConnection: null, maxMessageRate: '1000/h' },
      effective: { maxConnections: 2, maxMessagesPerConnection: 100, maxMessageRate: '1000/h' },
    });
    await api.request('PUT', '/api/v1/shaping/big.example', { body: { maxConnections: 50 } });
    const list = await api.request('GET', '/api/v1/shaping');
    expect(list.body.items.map((o: { domain: string }) => o.domain)).toEqual([
      'big.example',
      'small-isp.example',
    ]);
    // PUT replaces the whole override.
    const replaced = await api.request('PUT', '/api/v1/shaping/small-isp.example', {
      body: { maxMessagesPerConnection: 10 },
    });
    expect(replaced.body.effective).toEqual({
      maxConnections: 7,
      maxMessagesPerConnection: 10,
      maxMessageRate: '600/min',
    });
    expect((await api.request('DELETE', '/api/v1/shaping/small-isp.example')).status).toBe(204);
    expect((await api.request('DELETE', '/api/v1/shaping/small-isp.example')).status).toBe(404);
    expect((await api.request('GET', '/api/v1/shaping/small-isp.example')).body.override).toBeNull();
  });

  it('refuses limits at 0 and just past their maximum, a bad rate, an empty override and a bad domain', async () => {
    const put = (body: unknown, domain = 'x.example') =>
      api.request('PUT', `/api/v1/shaping/${domain}`, { body });
    expect(badFields(await put({ maxConnections: 0 }))).toEqual(['maxConnections']);
    expect((await put({ maxConnections: 10_000 })).status).toBe(200);
    expect(badFields(await put({ maxConnections: 10_001 }))).toEqual(['maxConnections']);
    expect(badFields(await put({ maxMessagesPerConnection: 0 }))).toEqual(['maxMessagesPerConnection']);
    expect((await put({ maxMessagesPerConnection: 100_000 })).status).toBe(200);
    expect(badFields(await put({ maxMessagesPerConnection: 100_001 }))).toEqual(['maxMessagesPerConnection']);
    expect((await put({ maxMessageRate: '100000/s' })).status).toBe(200);
    const tooFast = await put({ maxMessageRate: '100001/s' });
    expect(badFields(tooFast)).toEqual(['maxMessageRate']);
    expect(tooFast.body.error.fields[0].message).toMatch(/at most 100000\/s/);
    expect(badFields(await put({ maxMessageRate: '10 per second' }))).toEqual(['maxMessageRate']);
    expect((await put({})).status).toBe(400);
    expect((await put({ maxConnections: 2, extra: 1 })).status).toBe(400);
    expect((await put({ maxConnections: 2 }, 'not_a_domain')).status).toBe(400);
  });

  it('an override the API accepts is the one a delivery process applies, within its refresh time', async () => {
    const redis = new Redis(api.redisUrl, { maxRetriesPerRequest: 1 });
    const pool = createPgPool(api.databaseUrl);
    const agents = createDeliveryAgents({
      hostname: 'mta.example.org',
      dnsServers: [],
      port: 25,
      local: { kind: 'maildir', path: '/nonexistent' },
      redis,
      prefix: api.redisPrefix,
      shaping: { maxConnections: 7 },
      shapingOverrides: { pool, refreshMs: 200 },
    });
    try {
      expect(agents.shaping.shapingOf('tuned.example').maxConnections).toBe(7);
      await api.request('PUT', '/api/v1/shaping/tuned.example', {
        body: { maxConnections: 3, maxMessagesPerConnection: 5, maxMessageRate: '2/s' },
      });
      const applied = await until(
        'the override applied',
        () => {
          const s = agents.shaping.shapingOf('tuned.example');
          return s.maxConnections === 3 && s;
        },
        20_000,
        20,
      );
      expect(applied).toEqual({
        maxConnections: 3,
        maxMessagesPerConnection: 5,
        maxMessageRate: { count: 2, periodMs: 1_000 },
      });
      await api.request('DELETE', '/api/v1/shaping/tuned.example');
      await until(
        'back to the defaults',
        () => agents.shaping.shapingOf('tuned.example').maxConnections === 7,
        20_000,
        20,
      );
    } finally {
      await agents.close();
      await pool.end();
      redis.disconnect();
    }
  });
});
