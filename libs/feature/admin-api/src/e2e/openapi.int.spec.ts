import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { useAdminApi } from './harness';

const api = useAdminApi();

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
}

/** Every route Express really serves, as `METHOD /path/{param}`. */
function servedRoutes(): string[] {
  const instance = api.app.getHttpAdapter().getInstance() as {
    router?: { stack: Layer[] };
    _router?: { stack: Layer[] };
  };
  const stack = (instance.router ?? instance._router)?.stack ?? [];
  return stack.flatMap(({ route }) =>
    route
      ? Object.keys(route.methods)
          .filter((m) => route.methods[m] && m !== '_all')
          .map((m) => `${m.toUpperCase()} ${route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`)
      : [],
  );
}

describe('OpenAPI document', () => {
  it('is served at /api/openapi.json and is a valid OpenAPI 3 document', async () => {
    const response = await api.request('GET', '/api/openapi.json', { token: null });
    expect(response.status).toBe(200);
    expect(response.body.openapi).toMatch(/^3\./);
    const validator = new Validator();
    const result = await validator.validate(response.body);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('lists every API route the server serves, and nothing else', async () => {
    const document = (await api.request('GET', '/api/openapi.json', { token: null })).body;
    const documented = Object.entries<Record<string, unknown>>(document.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    // The Swagger UI's asset files are the one served route that is not part of the API.
    const served = servedRoutes().filter(
      (r) => r.split(' ')[1].startsWith('/api/') && r !== 'GET /api/docs/{file}',
    );
    expect(served.length).toBeGreaterThan(40);
    expect(documented.sort()).toEqual(served.sort());
    for (const required of [
      'POST /api/v1/domains',
      'PATCH /api/v1/domains/{name}',
      'POST /api/v1/domains/{name}/dkim',
      'GET /api/v1/domains/{name}/dns',
      'DELETE /api/v1/accounts/{address}',
      'POST /api/v1/aliases',
      'GET /api/v1/messages/{id}/raw',
      'POST /api/v1/messages/{id}/retry',
      'POST /api/v1/queue/domains/{domain}/resume',
      'DELETE /api/v1/suppressions/{address}',
      'GET /api/v1/events',
      'DELETE /api/v1/tokens/{id}',
    ])
      expect(documented).toContain(required);
  });

  it('documents bodies, errors and the bearer scheme', async () => {
    const document = (await api.request('GET', '/api/openapi.json', { token: null })).body;
    const create = document.paths['/api/v1/accounts'].post;
    expect(create.requestBody.content['application/json'].schema.required).toEqual(
      expect.arrayContaining(['address', 'password']),
    );
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '409']));
    expect(create.security).toEqual([{ bearer: [] }]);
    expect(JSON.stringify(create.responses['201'])).not.toContain('password');
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const list = document.paths['/api/v1/messages'].get;
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining([
        'status',
        'sender',
        'recipient',
        'domain',
        'since',
        'until',
        'limit',
        'cursor',
      ]),
    );
  });

  it('is browsable at /api/docs (Swagger UI served locally)', async () => {
    const page = await api.request('GET', '/api/docs', { token: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.text).toContain('SwaggerUIBundle');
    const bundle = await fetch(`${api.base}/api/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
    expect((await api.request('GET', '/api/docs/..%2Fpackage.json', { token: null })).status).toBe(404);
  });

  it('sends /api/docs/ (with a slash) to the page, whose links then resolve', async () => {
    const slash = await fetch(`${api.base}/api/docs/`, { redirect: 'manual' });
    expect(slash.status).toBe(301);
    const target = new URL(slash.headers.get('location') ?? '', `${api.base}/api/docs/`);
    expect(target.pathname).toBe('/api/docs');
    const followed = await fetch(`${api.base}/api/docs/`);
    expect(followed.url).toBe(`${api.base}/api/docs`);
    expect(await followed.text()).toContain('SwaggerUIBundle');
    for (const link of ['docs/swagger-ui.css', 'docs/swagger-ui-bundle.js', 'openapi.json'])
      expect((await fetch(new URL(link, followed.url))).status).toBe(200);
  });
});
