/**
 * The webhooks worker against real PostgreSQL, Redis and an HTTP receiver on loopback: batches
 * to an endpoint that takes them (at WEBHOOK_BATCH_MAX and just past it, a failed batch retried
 * whole, signatures checked by Python's hmac), one event per POST otherwise, and what a
 * delivery costs PostgreSQL (one update of its row on success, no attempt row, no claim write).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { loadConfig } from '@mta/config';
import { createLogger } from '@mta/observability';
import { JobProducer, createRedisConnection, redisReady } from '@mta/queue';
import {
  createTestDatabase,
  createTestRedis,
  pythonWebhookVerify,
  startWebhookReceiver,
  until,
  type TestDatabase,
  type WebhookReceiver,
} from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptSecret } from './secret-box';
import { generateSecret } from './signature';
import { WebhooksWorker } from './webhooks-worker';

const BATCH_MAX = 5;
const KEY = randomBytes(32);

describe('WebhooksWorker', () => {
  let database: TestDatabase;
  let testRedis: Awaited<ReturnType<typeof createTestRedis>>;
  let pool: pg.Pool;
  let redis: Redis;
  let workerRedis: Redis;
  let producer: JobProducer;
  let worker: WebhooksWorker;
  let receiver: WebhookReceiver;
  const registry = new Registry();

  beforeAll(async () => {
    database = await createTestDatabase();
    testRedis = await createTestRedis();
    pool = new pg.Pool({ connectionString: database.url, max: 4 });
    // Every write to the deliveries and attempts, by row: what a delivery costs PostgreSQL.
    await pool.query(`
      CREATE TABLE write_log (tbl text, op text, id uuid);
      CREATE FUNCTION log_delivery() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO write_log VALUES (TG_TABLE_NAME, TG_OP, NEW.id); RETURN NULL; END $$;
      CREATE FUNCTION log_attempt() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO write_log VALUES (TG_TABLE_NAME, TG_OP, NEW.delivery_id); RETURN NULL; END $$;
      CREATE TRIGGER log_deliveries AFTER UPDATE ON webhook_deliveries FOR EACH ROW EXECUTE FUNCTION log_delivery();
      CREATE TRIGGER log_attempts AFTER INSERT ON webhook_attempts FOR EACH ROW EXECUTE FUNCTION log_attempt();`);
    receiver = await startWebhookReceiver({ '/batch': 204, '/flaky': [500, 200], '/single': 200 });
    redis = createRedisConnection(testRedis.url, 'client');
    workerRedis = createRedisConnection(testRedis.url, 'worker');
    await Promise.all([redisReady(redis), redisReady(workerRedis)]);
    producer = new JobProducer(redis, testRedis.prefix);
    const config = loadConfig({
      DATABASE_URL: database.url,
      REDIS_URL: testRedis.url,
      REDIS_PREFIX: testRedis.prefix,
      WEBHOOK_SECRET_KEY: KEY.toString('base64'),
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_BATCH_MAX: String(BATCH_MAX),
      WEBHOOK_RETRY_FIRST_MS: '200',
    });
    const logger = createLogger('webhooks-test', 'warn');
    worker = new WebhooksWorker(
      { pool, producer, workerConnection: workerRedis, prefix: testRedis.prefix, logger, registry },
      config,
    );
    worker.start();
  });

  afterAll(async () => {
    await worker?.stop();
    await producer?.close();
    redis?.disconnect();
    workerRedis?.disconnect();
    await pool?.end();
    await receiver?.close();
    await database?.drop();
    await testRedis?.cleanup();
  });

  async function endpoint(path: string, batch: boolean) {
    const secret = generateSecret();
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO webhook_endpoints (url, event_types, secret_enc, batch) VALUES ($1, '{test}', $2, $3) RETURNING id`,
      [receiver.url(path), encryptSecret(KEY, secret), batch],
    );
    return { id: rows[0]?.id ?? '', secret };
  }

  /** `count` test deliveries to the endpoint, due now, committed together; their event ids. */
  async function due(endpointId: string, count: number): Promise<string[]> {
    const eventIds = Array.from({ length: count }, () => randomUUID());
    await pool.query(
      `INSERT INTO webhook_deliveries (endpoint_id, event_type, payload)
       SELECT $1::uuid, 'test', jsonb_build_object('id', e, 'type', 'test',
              'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
              'data', jsonb_build_object('message', 'batch test', 'endpointId', $1::text))
         FROM unnest($2::uuid[]) AS e`,
      [endpointId, eventIds],
    );
    return eventIds;
  }

  const eventsOf = (body: string) => (JSON.parse(body) as { events: { id: string }[] }).events;

  it('sends WEBHOOK_BATCH_MAX due events in one POST, {"events": [...]}, signed over the whole body', async () => {
    const hook = await endpoint('/batch', true);
    const eventIds = await due(hook.id, BATCH_MAX);
    const request = await until('the batch', () => receiver.received('/batch')[0]);
    const events = eventsOf(request.body);
    expect(events.map((e) => e.id).sort()).toEqual([...eventIds].sort());
    expect(events[0]).toMatchObject({ type: 'test', data: { message: 'batch test', endpointId: hook.id } });
    expect(request.headers['webhook-id']).toMatch(/^batch_[A-Za-z0-9_-]{32}$/);
    expect(await pythonWebhookVerify(hook.secret, request)).toBe('valid');
    const tampered = { ...request, body: request.body.replace('batch test', 'botch test') };
    expect(await pythonWebhookVerify(hook.secret, tampered)).toBe('invalid');
    await until('the deliveries delivered', async () => {
      const { rows } = await pool.query(
        `SELECT 1 FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'delivered' AND attempts = 1
            AND last_status = 204 AND last_latency_ms IS NOT NULL`,
        [hook.id],
      );
      return rows.length === BATCH_MAX;
    });
    expect(receiver.received('/batch')).toHaveLength(1);
  });

  it('one past WEBHOOK_BATCH_MAX makes two POSTs, of the cap and of one (its webhook-id the delivery id)', async () => {
    const hook = await endpoint('/batch', true);
    const before = receiver.received('/batch').length;
    const eventIds = await due(hook.id, BATCH_MAX + 1);
    const requests = await until('both POSTs', () => {
      const got = receiver.received('/batch').slice(before);
      return got.length >= 2 ? got : undefined;
    });
    expect(requests.map((r) => eventsOf(r.body).length).sort()).toEqual([1, BATCH_MAX]);
    expect(requests.flatMap((r) => eventsOf(r.body).map((e) => e.id)).sort()).toEqual([...eventIds].sort());
    const single = requests.find((r) => eventsOf(r.body).length === 1);
    expect(single?.headers['webhook-id']).toMatch(/^[0-9a-f-]{36}$/);
    for (const request of requests) expect(await pythonWebhookVerify(hook.secret, request)).toBe('valid');
  });

  it('retries a failed batch whole: the same events under the same webhook-id, each attempt on record', async () => {
    const hook = await endpoint('/flaky', true);
    const eventIds = await due(hook.id, 3);
    const requests = await until('the retry', () =>
      receiver.received('/flaky').length >= 2 ? receiver.received('/flaky') : undefined,
    );
    const [first, second] = requests;
    expect(first?.headers['webhook-id']).toBe(second?.headers['webhook-id']);
    for (const request of [first, second])
      expect(
        eventsOf(request?.body ?? '{"events":[]}')
          .map((e) => e.id)
          .sort(),
      ).toEqual([...eventIds].sort());
    const rows = await until('the deliveries delivered', async () => {
      const { rows } = await pool.query<{ status: string; attempts: number; logged: number[] }>(
        `SELECT d.status, d.attempts, array(SELECT status_code FROM webhook_attempts a WHERE a.delivery_id = d.id) AS logged
           FROM webhook_deliveries d WHERE endpoint_id = $1`,
        [hook.id],
      );
      return rows.every((r) => r.status === 'delivered') ? rows : undefined;
    });
    // The failure has its attempt row; the success is in the delivery row itself.
    expect(rows).toEqual(eventIds.map(() => ({ status: 'delivered', attempts: 2, logged: [500] })));
    expect(receiver.received('/flaky')).toHaveLength(2);
  });

  it('sends one event per POST to an endpoint without batches; a success costs one update of its row', async () => {
    const hook = await endpoint('/single', false);
    const eventIds = await due(hook.id, 3);
    const requests = await until('three POSTs', () =>
      receiver.received('/single').length >= 3 ? receiver.received('/single') : undefined,
    );
    const ids = requests.map((r) => (JSON.parse(r.body) as { id: string; events?: unknown }).id);
    expect(ids.sort()).toEqual([...eventIds].sort());
    for (const request of requests) {
      expect(JSON.parse(request.body)).not.toHaveProperty('events');
      expect(await pythonWebhookVerify(hook.secret, request)).toBe('valid');
    }
    const { rows } = await until('the deliveries delivered', async () => {
      const result = await pool.query<{ id: string }>(
        `SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'delivered'`,
        [hook.id],
      );
      return result.rows.length === 3 ? result : undefined;
    });
    const writes = await pool.query<{ tbl: string; op: string; n: number }>(
      `SELECT tbl, op, count(*)::int AS n FROM write_log WHERE id = ANY($1::uuid[]) GROUP BY tbl, op`,
      [rows.map((r) => r.id)],
    );
    expect(writes.rows).toEqual([{ tbl: 'webhook_deliveries', op: 'UPDATE', n: 3 }]);
  });

  it('sends a delivery committed after the dispatcher has read past its due time', async () => {
    const hook = await endpoint('/single', false);
    const late = await pool.connect();
    try {
      await late.query('BEGIN');
      // Due at the transaction's start (the trigger's rows are due at their event's time)...
      const { rows } = await late.query<{ id: string }>(
        `INSERT INTO webhook_deliveries (endpoint_id, event_type, payload)
         VALUES ($1::uuid, 'test', jsonb_build_object('id', gen_random_uuid(), 'type', 'test',
                 'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                 'data', jsonb_build_object('message', 'late', 'endpointId', $1::text)))
         RETURNING id`,
        [hook.id],
      );
      // ...while one due later is committed, read and sent first.
      const [early] = await due(hook.id, 1);
      await until('the later delivery sent', () =>
        receiver.received('/single').find((r) => r.body.includes(early ?? '-')),
      );
      await late.query('COMMIT');
      const lateId = rows[0]?.id ?? '';
      await until(
        'the late delivery sent',
        () => receiver.received('/single').find((r) => r.headers['webhook-id'] === lateId),
        // At once when it was committed within WebhookDispatcher's lag, else at its next rescan.
        60_000,
      );
    } finally {
      late.release();
    }
  }, 90_000);

  it('counts every POST and the events it carried by result, and times each POST (mta_webhook_*)', async () => {
    const value = async (name: string, result: string) =>
      (await registry.getSingleMetric(name)?.get())?.values.find((v) => v.labels['result'] === result)
        ?.value ?? 0;
    // What the receiver was sent above: one 500 (/flaky's first answer, a batch of 3), the rest 2xx.
    const all = ['/batch', '/flaky', '/single'].flatMap((path) => receiver.received(path));
    const eventsIn = (body: string) => {
      const parsed = JSON.parse(body) as { events?: unknown[] };
      return parsed.events ? parsed.events.length : 1;
    };
    const events = all.reduce((n, r) => n + eventsIn(r.body), 0);
    await until('the counters of every POST', async () =>
      (await value('mta_webhook_posts_total', 'delivered')) === all.length - 1 ? true : undefined,
    );
    expect(await value('mta_webhook_posts_total', 'failed')).toBe(1);
    expect(await value('mta_webhook_events_total', 'failed')).toBe(3);
    expect(await value('mta_webhook_events_total', 'delivered')).toBe(events - 3);
    const histogram = await registry.getSingleMetricAsString('mta_webhook_post_seconds');
    expect(/^mta_webhook_post_seconds_count (\d+)$/m.exec(histogram)?.[1]).toBe(String(all.length));
  });
});
