/**
 * Issue 17: what an outside test found the admin API did with hostile input, over real HTTP
 * against the real service (PostgreSQL, Redis).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { badFields, useAdminApi } from './harness';

const METRICS_TOKEN = 'metrics-scraper-token-0123456789';
const api = useAdminApi({ METRICS_TOKEN });

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

describe('HTTP security headers', () => {
  it('API answers: no X-Powered-By; nosniff, DENY, no-referrer, a CSP that allows nothing, no-store', async () => {
    for (const path of ['/api/v1/domains', '/api/v1/nothing-here', '/healthz', '/api/openapi.json']) {
      const r = await api.request('GET', path);
      expect(r.headers.get('x-powered-by'), path).toBeNull();
      expect(r.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(r.headers.get('x-frame-options'), path).toBe('DENY');
      expect(r.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(r.headers.get('content-security-policy'), path).toBe(
        "default-src 'none'; frame-ancestors 'none'",
      );
      expect(r.headers.get('cache-control'), path).toBe('no-store');
    }
  });

  it('the docs page: a CSP that lets Swagger UI load from here and run its one inline script', async () => {
    const page = await api.request('GET', '/api/docs', { token: null });
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    const inline = [...page.text.matchAll(/<script>([^]*?)<\/script>/g)].map((m) => m[1]);
    expect(inline).toHaveLength(1);
    const hash = createHash('sha256').update(inline[0]).digest('base64');
    expect(csp).toContain(`script-src 'self' 'sha256-${hash}'`);
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    // Every script and stylesheet the page loads is ours (relative), which 'self' allows.
    expect([...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])).toEqual([
      'docs/favicon-32x32.png',
      'docs/swagger-ui.css',
      'docs/swagger-ui-bundle.js',
    ]);
    const bundle = await fetch(`${api.base}/api/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('cache-control')).not.toBe('no-store');
  });
});

describe('/metrics behind METRICS_TOKEN; the probes stay open', () => {
  it('401 without the token or with a wrong one, 200 with it; /healthz and /readyz need none', async () => {
    const none = await api.request('GET', '/metrics', { token: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(none.text).not.toContain('mta_');
    expect((await api.request('GET', '/metrics', { token: `${METRICS_TOKEN}x` })).status).toBe(401);
    const ok = await api.request('GET', '/metrics', { token: METRICS_TOKEN });
    expect(ok.status).toBe(200);
    expect(ok.text).toMatch(/mta_process_cpu_user_seconds_total\{service="admin-api"\}/);
    expect((await api.request('GET', '/healthz', { token: null })).status).toBe(200);
    expect((await api.request('GET', '/readyz', { token: null })).status).toBe(200);
  });
});
