import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  createTestRedis,
  freePort,
  mxRecord,
  startFakeDnsServer,
  txtRecord,
  type FakeDnsServer,
  type FakeRecord,
  type TestDatabase,
} from '@mta/testing';
import { startAdminApi, type ApiHarness } from './harness';

// Key rotation through the API and `GET /dns/check` against a loopback DNS server (DNS_SERVERS).
describe('DKIM key rotation and the DNS check', () => {
  const zone: FakeRecord[] = [];
  let dns: FakeDnsServer;
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let api: ApiHarness;

  beforeAll(async () => {
    dns = await startFakeDnsServer({ records: zone, faults: { '_dmarc.broken.example': 'servfail' } });
    [database, redis] = await Promise.all([createTestDatabase(), createTestRedis()]);
    api = await startAdminApi({
      databaseUrl: database.url,
      redisUrl: redis.url,
      redisPrefix: redis.prefix,
      port: await freePort(),
      env: { DNS_SERVERS: `127.0.0.1:${dns.port}` },
    });
  });
  afterAll(async () => {
    await api?.close();
    await Promise.all([database?.drop(), redis?.cleanup(), dns?.close()]);
  });

  const check = async (domain: string) => {
    const res = await api.request('GET', `/api/v1/domains/${domain}/dns/check`);
    expect(res.status, res.text).toBe(200);
    const byName = Object.fromEntries(
      res.body.records.map((r: { purpose: string; selector?: string; status: string }) => [
        r.selector ?? r.purpose,
        r.status,
      ]),
    );
    return { ok: res.body.ok as boolean, status: byName as Record<string, string>, body: res.body };
  };

  it('publishes, checks and activates a new selector while the old key still signs', async () => {
    expect((await api.request('POST', '/api/v1/domains', { body: { name: 'rotate.example' } })).status).toBe(
      201,
    );
    const old = await api.request('POST', '/api/v1/domains/rotate.example/dkim', {
      body: { selector: 'old' },
    });
    const next = await api.request('POST', '/api/v1/domains/rotate.example/dkim', {
      body: { selector: 'next', active: false },
    });
    expect([old.body.active, next.body.active]).toEqual([true, false]);
    const published = await api.request('GET', '/api/v1/domains/rotate.example/dns');
    const dkim = published.body.records.filter((r: { purpose: string }) => r.purpose === 'dkim');
    expect(dkim.map((r: { name: string; note?: string }) => [r.name, r.note === undefined])).toEqual([
      ['old._domainkey.rotate.example.', true],
      ['next._domainkey.rotate.example.', false],
    ]);

    zone.push(
      mxRecord('rotate.example', 10, 'mx.test.example'),
      // SPF over two character-strings: the check joins them (RFC 7208 §3.3)
      txtRecord('rotate.example', ['v=spf1 mx a:mx.test', '.example ~all']),
      txtRecord('rotate.example', 'google-site-verification=abc'),
      txtRecord('_dmarc.rotate.example', 'v=DMARC1; p=reject; rua=mailto:postmaster@rotate.example'),
      txtRecord('old._domainkey.rotate.example', old.body.txt),
    );
    const before = await check('rotate.example');
    expect(before.status).toEqual({
      mx: 'match',
      spf: 'match',
      old: 'match',
      next: 'missing',
      dmarc: 'match',
    });
    expect(before.ok).toBe(false);

    zone.push(txtRecord('next._domainkey.rotate.example', next.body.txt));
    const after = await check('rotate.example');
    expect(after.status['next']).toBe('match');
    expect(after.ok).toBe(true);

    const activated = await api.request('PATCH', '/api/v1/domains/rotate.example/dkim/next', {
      body: { active: true },
    });
    expect(activated.status).toBe(200);
    expect(activated.body).toMatchObject({ selector: 'next', active: true });
    const retired = await api.request('PATCH', '/api/v1/domains/rotate.example/dkim/old', {
      body: { active: false },
    });
    expect(retired.body.active).toBe(false);
    const rows = await api.db.dkimKey.findMany({
      orderBy: { selector: 'asc' },
      select: { selector: true, active: true },
    });
    expect(rows).toEqual([
      { selector: 'next', active: true },
      { selector: 'old', active: false },
    ]);
  });

  it('refuses a bad PATCH with 400 and an unknown selector with 404', async () => {
    const bad = await api.request('PATCH', '/api/v1/domains/rotate.example/dkim/next', {
      body: { active: 'yes' },
    });
    expect(bad.status).toBe(400);
    const extra = await api.request('PATCH', '/api/v1/domains/rotate.example/dkim/next', {
      body: { active: true, selector: 'x' },
    });
    expect(extra.status).toBe(400);
    const unknown = await api.request('PATCH', '/api/v1/domains/rotate.example/dkim/nope', {
      body: { active: true },
    });
    expect(unknown.status).toBe(404);
    expect((await api.request('GET', '/api/v1/domains/unknown.example/dns/check')).status).toBe(404);
  });

  it('says which records do not match, and which lookups failed', async () => {
    await api.request('POST', '/api/v1/domains', { body: { name: 'wrong.example' } });
    const key = await api.request('POST', '/api/v1/domains/wrong.example/dkim', {
      body: { selector: 's1', algorithm: 'ed25519' },
    });
    const other = await api.request('POST', '/api/v1/domains/rotate.example/dkim', {
      body: { selector: 'spare', algorithm: 'ed25519', active: false },
    });
    expect(key.status).toBe(201);
    zone.push(
      mxRecord('wrong.example', 10, 'mail.elsewhere.example'),
      txtRecord('wrong.example', 'v=spf1 mx ~all'),
      txtRecord('wrong.example', 'v=spf1 a:mx.test.example ~all'),
      txtRecord('s1._domainkey.wrong.example', other.body.txt),
      txtRecord('_dmarc.wrong.example', 'v=DMARC1; rua=mailto:x@wrong.example'),
    );
    const wrong = await check('wrong.example');
    expect(wrong.status).toEqual({ mx: 'mismatch', spf: 'mismatch', s1: 'mismatch', dmarc: 'mismatch' });
    expect(wrong.ok).toBe(false);
    expect(wrong.body.records[0].found).toEqual(['10 mail.elsewhere.example.']);

    await api.request('POST', '/api/v1/domains', { body: { name: 'broken.example' } });
    const broken = await check('broken.example');
    expect(broken.status).toEqual({ mx: 'missing', spf: 'missing', dmarc: 'error' });
  });
});
