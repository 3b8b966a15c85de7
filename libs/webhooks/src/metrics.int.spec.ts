/**
 * The outbox backlog gauges against real PostgreSQL (no worker here, so nothing drains it):
 * deliveries pending and due count, those due later or already delivered do not, and the age of
 * the oldest due one is what an operator alerts on.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Registry } from 'prom-client';
import { createTestDatabase, type TestDatabase } from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWebhookBacklog } from './metrics';

describe('mta_webhook_due and mta_webhook_oldest_due_seconds', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  const registry = new Registry();

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    registerWebhookBacklog(registry, pool);
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  const scrape = async () => {
    const text = await registry.metrics();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    return { due: value('mta_webhook_due'), oldest: value('mta_webhook_oldest_due_seconds') };
  };

  async function deliveries(endpointId: string, rows: { dueSecondsAgo: number; status: string }[]) {
    for (const row of rows)
      await pool.query(
        `INSERT INTO webhook_deliveries (endpoint_id, event_type, status, next_attempt_at, payload)
         VALUES ($1, 'test', $2, now() - make_interval(secs => $3), '{}'::jsonb)`,
        [endpointId, row.status, row.dueSecondsAgo],
      );
  }

  it('counts the pending deliveries due now and the age of the oldest; 0 and 0 when there are none', async () => {
    expect(await scrape()).toEqual({ due: 0, oldest: 0 });
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO webhook_endpoints (url, event_types, secret_enc) VALUES ('https://x.example/', '{test}', $1) RETURNING id`,
      [randomBytes(60)],
    );
    const endpointId = rows[0]?.id ?? '';
    await deliveries(endpointId, [
      { dueSecondsAgo: 120, status: 'pending' },
      { dueSecondsAgo: 5, status: 'pending' },
      { dueSecondsAgo: -600, status: 'pending' }, // due in ten minutes: not yet
      { dueSecondsAgo: 3600, status: 'delivered' },
      { dueSecondsAgo: 3600, status: 'failed' },
    ]);
    const { due, oldest } = await scrape();
    expect(due).toBe(2);
    expect(oldest).toBeGreaterThanOrEqual(120);
    expect(oldest).toBeLessThan(120 + 60);
    await pool.query(`UPDATE webhook_deliveries SET status = 'delivered' WHERE status = 'pending'`);
    expect(await scrape()).toEqual({ due: 0, oldest: 0 });
  });

  it('reports NaN (unknown), never 0, when PostgreSQL does not answer', async () => {
    const broken = new Registry();
    const dead = new pg.Pool({ connectionString: 'postgresql://nobody@127.0.0.1:1/none', max: 1 });
    registerWebhookBacklog(broken, dead);
    const text = await broken.metrics();
    expect(text).toMatch(/^mta_webhook_due nan$/im);
    expect(text).toMatch(/^mta_webhook_oldest_due_seconds nan$/im);
    await dead.end();
  });
});
