import { describe, expect, it } from 'vitest';
import { Readiness } from './readiness';

describe('Readiness', () => {
  it('is ready when every check resolves', async () => {
    const readiness = new Readiness();
    readiness.register({ name: 'a', check: async () => undefined });
    readiness.register({ name: 'b', check: async () => undefined });
    expect(await readiness.report()).toEqual({ ready: true, checks: { a: { ok: true }, b: { ok: true } } });
  });

  it('is not ready when one check fails, and says which and why', async () => {
    const readiness = new Readiness();
    readiness.register({ name: 'db', check: async () => undefined });
    readiness.register({ name: 'redis', check: async () => Promise.reject(new Error('ECONNREFUSED')) });
    const report = await readiness.report();
    expect(report.ready).toBe(false);
    expect(report.checks['redis']).toEqual({ ok: false, error: 'ECONNREFUSED' });
    expect(report.checks['db']).toEqual({ ok: true });
  });

  it('counts a check that hangs as failed after the time limit', async () => {
    const readiness = new Readiness(50);
    readiness.register({ name: 'slow', check: () => new Promise(() => undefined) });
    const report = await readiness.report();
    expect(report.checks['slow']).toEqual({ ok: false, error: 'slow did not answer within 50 ms' });
  });
});

describe('Readiness while draining', () => {
  it('reports not ready once draining has begun, even with every check passing', async () => {
    const readiness = new Readiness();
    readiness.register({ name: 'db', check: async () => undefined });
    expect((await readiness.report()).ready).toBe(true);
    readiness.markDraining();
    expect(await readiness.report()).toEqual({
      ready: false,
      checks: { draining: { ok: false, error: 'shutting down' } },
    });
  });
});
