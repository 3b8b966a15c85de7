/**
 * mtactl cannot drift from the API: every route in its table (routes.ts), the only routes its
 * client can call, must be in the OpenAPI document the running API serves, with the same
 * method, query parameters, and the same request and response schemas (both sides render them
 * from the same zod schemas, so any difference means mtactl is bound to the wrong one).
 */
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentedRoute, openApiDocument, type OpenApiDocument } from './openapi.testutil';
import { ROUTES, type Route } from './routes';
import { startStack, type Stack } from './stack.testutil';

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') => {
  const rendered: Record<string, unknown> = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io,
    unrepresentable: 'any',
  });
  delete rendered['$schema'];
  return rendered;
};

describe('mtactl routes and the OpenAPI document', () => {
  let stack: Stack;
  let document: OpenApiDocument;

  beforeAll(async () => {
    stack = await startStack();
    document = await openApiDocument(stack.url);
  }, 120_000);
  afterAll(async () => stack?.close(), 60_000);

  const routes: [string, Route][] = Object.entries(ROUTES);

  it.each(routes)('%s is documented with its method, parameters and schemas', (_name, route) => {
    const operation = document.paths[route.path]?.[route.method.toLowerCase()];
    expect(operation, `${route.method} ${route.path} is not in /api/openapi.json`).toBeDefined();
    if (!operation) return;
    const success = operation.responses[String(route.status)];
    expect(success, `${route.method} ${route.path} answers ${route.status}`).toBeDefined();
    if (route.response)
      expect(success?.content?.['application/json']?.schema).toEqual(jsonSchema(route.response, 'output'));
    if (route.raw) expect(Object.keys(success?.content ?? {})).toEqual(['message/rfc822']);
    if (route.stream) expect(Object.keys(success?.content ?? {})).toEqual(['text/event-stream']);
    if (route.body)
      expect(operation.requestBody?.content['application/json']?.schema).toEqual(
        jsonSchema(route.body, 'input'),
      );
    else expect(operation.requestBody).toBeUndefined();
    const query = (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    expect(query.sort()).toEqual(Object.keys(route.query?.shape ?? {}).sort());
  });

  it('the check of what mtactl sent (commands.e2e.spec.ts) knows a documented request from another', () => {
    expect(documentedRoute(document, 'GET /api/v1/domains/example.test/dns')).toBe(
      'GET /api/v1/domains/{name}/dns',
    );
    expect(documentedRoute(document, 'POST /api/v1/messages/AAAAAAAAAAAAAAAA/hold')).toBeDefined();
    expect(documentedRoute(document, 'PUT /api/v1/domains')).toBeUndefined();
    expect(documentedRoute(document, 'GET /api/v1/domains/example.test/frobnicate')).toBeUndefined();
  });
});
