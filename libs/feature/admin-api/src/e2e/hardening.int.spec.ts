/**
 * Issue 17: what an outside test found the admin API did with hostile input, over real HTTP
 * against the real service (PostgreSQL, Redis).
 */
import { describe, expect, it } from 'vitest';
import { badFields, useAdminApi } from './harness';

const api = useAdminApi();

describe('a NUL character is refused with 400, never a 500 (PostgreSQL text cannot hold it)', () => {
  it.each([
    ['/api/v1/messages?sender=a%00b@example.org', 'sender'],
    ['/api/v1/messages?recipient=a%00b@example.org', 'recipient'],
    ['/api/v1/messages?domain=exa%00mple.org', 'domain'],
  ])('query GET %s', async (path, field) => {
    const r = await api.request('GET', path);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('validation_failed');
    expect(badFields(r)).toEqual([field]);
  });

  it('path parameter: GET /api/v1/suppressions/a%00b@example.org', async () => {
    const r = await api.request('GET', '/api/v1/suppressions/a%00b@example.org');
    expect(r.status).toBe(400);
    expect(badFields(r)).toEqual(['address']);
  });

  it('JSON strings, however deep: POST /api/v1/tokens, /api/v1/domains, /api/v1/accounts', async () => {
    const token = await api.request('POST', '/api/v1/tokens', { body: '{"name":"x\\u0000y"}' });
    expect(token.status).toBe(400);
    expect(badFields(token)).toEqual(['name']);
    const domain = await api.request('POST', '/api/v1/domains', { body: { name: 'nul\u0000.example' } });
    expect(badFields(domain)).toEqual(['name']);
    const account = await api.request('POST', '/api/v1/accounts', {
      body: {
        address: 'a@b.example',
        password: 'a long enough password',
        sendAs: ['ok@b.example', 'x\u0000@b.example'],
      },
    });
    expect(account.status).toBe(400);
    expect(badFields(account)).toEqual(['sendAs.1']);
    expect(await api.db.apiToken.count({ where: { name: { contains: 'x' } } })).toBe(0);
  });

  it('the same values without the NUL are fine', async () => {
    expect((await api.request('GET', '/api/v1/messages?sender=ab@example.org')).status).toBe(200);
    expect((await api.request('POST', '/api/v1/tokens', { body: { name: 'xy' } })).status).toBe(201);
  });
});
