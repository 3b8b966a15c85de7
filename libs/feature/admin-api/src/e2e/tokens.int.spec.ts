import { describe, expect, it } from 'vitest';
import { BOOTSTRAP_TOKEN, badFields, useAdminApi } from './harness';

const api = useAdminApi();

describe('API tokens', () => {
  it('creates a token shown once, which then works; only its hash is stored', async () => {
    const created = await api.request('POST', '/api/v1/tokens', { body: { name: 'ci' } });
    expect(created.status).toBe(201);
    const { token, id, prefix } = created.body;
    expect(token).toMatch(/^mta_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
    expect(token.startsWith(prefix)).toBe(true);
    const row = await api.db.apiToken.findUniqueOrThrow({ where: { id } });
    expect(JSON.stringify(row)).not.toContain(token);

    const withToken = await api.request('GET', '/api/v1/tokens', { token });
    expect(withToken.status).toBe(200);
    expect(withToken.text).not.toContain(token);
    expect(withToken.body.items).toEqual([
      expect.objectContaining({ id, name: 'ci', prefix, revokedAt: null }),
    ]);
    expect(withToken.body.items[0].token).toBeUndefined();
    expect((await api.request('GET', `/api/v1/tokens/${id}`)).body.lastUsedAt).not.toBeNull();
  });

  it('revokes a token: it stops working at once', async () => {
    const { token, id } = (await api.request('POST', '/api/v1/tokens', { body: { name: 'temporary' } })).body;
    expect((await api.request('GET', '/api/v1/domains', { token })).status).toBe(200);
    expect((await api.request('DELETE', `/api/v1/tokens/${id}`, { token })).status).toBe(204);
    const after = await api.request('GET', '/api/v1/domains', { token });
    expect(after.status).toBe(401);
    expect(after.body.error).toMatchObject({ status: 401, code: 'unauthorized' });
    expect((await api.request('GET', `/api/v1/tokens/${id}`)).body.revokedAt).not.toBeNull();
  });

  it('answers 400 and 404', async () => {
    expect(badFields(await api.request('POST', '/api/v1/tokens', { body: { name: '' } }))).toEqual(['name']);
    expect(badFields(await api.request('POST', '/api/v1/tokens', { body: 'not json' }))).toEqual([]);
    expect((await api.request('POST', '/api/v1/tokens', { body: 'not json' })).status).toBe(400);
    expect(badFields(await api.request('DELETE', '/api/v1/tokens/not-a-uuid'))).toEqual(['id']);
    expect((await api.request('DELETE', '/api/v1/tokens/00000000-0000-4000-8000-000000000000')).status).toBe(
      404,
    );
    expect((await api.request('GET', '/api/v1/tokens/00000000-0000-4000-8000-000000000000')).status).toBe(
      404,
    );
  });
});

describe('authentication', () => {
  it('refuses every /api/v1 route without a valid token, and changes nothing', async () => {
    const document = (await api.request('GET', '/api/openapi.json', { token: null })).body;
    const before = await api.db.apiToken.count();
    let checked = 0;
    for (const [path, operations] of Object.entries<Record<string, unknown>>(document.paths)) {
      if (!path.startsWith('/api/v1/')) continue;
      const concrete = path.replace(/\{[^}]+\}/g, (m) =>
        m === '{id}' ? '00000000-0000-4000-8000-000000000000' : 'x@example.com',
      );
      for (const method of Object.keys(operations)) {
        for (const token of [null, 'wrong', `${BOOTSTRAP_TOKEN}x`, 'mta_abcdefgh_' + 'A'.repeat(43)]) {
          const response = await api.request(method.toUpperCase(), concrete, {
            token,
            body: method === 'get' ? undefined : { name: 'x' },
          });
          expect(response.status, `${method} ${path} with ${token}`).toBe(401);
          expect(response.body.error.code).toBe('unauthorized');
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(await api.db.apiToken.count()).toBe(before);
    expect(await api.db.domain.count()).toBe(0);
  });

  it('accepts the bootstrap token, case-insensitive scheme, and refuses malformed headers', async () => {
    expect(
      (
        await api.request('GET', '/api/v1/domains', {
          token: null,
          headers: { authorization: `bearer ${BOOTSTRAP_TOKEN}` },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await api.request('GET', '/api/v1/domains', {
          token: null,
          headers: { authorization: `Basic ${BOOTSTRAP_TOKEN}` },
        })
      ).status,
    ).toBe(401);
    expect(
      (await api.request('GET', '/api/v1/domains', { token: null, headers: { authorization: 'Bearer' } }))
        .status,
    ).toBe(401);
  });

  it('leaves health, readiness, metrics and the docs open', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/api/openapi.json', '/api/docs'])
      expect((await api.request('GET', path, { token: null })).status, path).toBe(200);
  });

  it('answers unknown routes with the JSON error shape', async () => {
    const response = await api.request('GET', '/api/v1/nothing-here');
    expect(response.status).toBe(404);
    expect(response.body.error).toMatchObject({ status: 404, code: 'not_found' });
  });
});
