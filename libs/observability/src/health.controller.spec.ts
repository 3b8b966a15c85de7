import 'reflect-metadata';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from './logger';
import { Metrics } from './metrics';
import { ObservabilityModule } from './observability.module';
import { Readiness } from './readiness';

describe('HealthController over HTTP', () => {
  let app: INestApplication;
  let base: string;
  let redisUp = true;

  beforeAll(async () => {
    const readiness = new Readiness(200);
    readiness.register({
      name: 'redis',
      check: async () => (redisUp ? undefined : Promise.reject(new Error('down'))),
    });
    @Module({
      imports: [
        ObservabilityModule.forRoot({
          logger: createLogger('test', 'silent'),
          metrics: new Metrics('test'),
          readiness,
        }),
      ],
    })
    class TestModule {}
    app = await NestFactory.create(TestModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });
  afterAll(() => app.close());

  it('answers /healthz with 200', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz 200 when dependencies answer and 503 naming the one that does not', async () => {
    redisUp = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    redisUp = false;
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: 'unavailable',
      checks: { redis: { ok: false, error: 'down' } },
    });
  });

  it('serves Prometheus metrics with the service label', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toMatch(/mta_process_cpu_user_seconds_total\{service="test"\}/);
  });
});
