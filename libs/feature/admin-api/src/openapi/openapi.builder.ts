import { Injectable, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { z } from 'zod';
import { WEBHOOK_EVENT_SCHEMAS, WebhookBatch } from '@mta/webhooks/schemas';
import { API_DOC, API_TAG, type RouteDoc } from './api-doc';

type Json = Record<string, unknown>;

const ERROR_TEXT: Record<number, string> = {
  400: 'The request is not valid; `fields` names each bad field.',
  401: 'No valid bearer token.',
  404: 'It does not exist.',
  409: 'It already exists, or is in a state that does not allow this.',
  500: 'Internal error.',
};

const ErrorBody = z.object({
  error: z.object({
    status: z.number().int(),
    code: z.string(),
    message: z.string(),
    fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  }),
});

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as Json;
  delete json['$schema'];
  return json;
}

/** `/api/v1/domains/:name` → `/api/v1/domains/{name}` and the parameter names. */
function openApiPath(path: string): { path: string; params: string[] } {
  const params: string[] = [];
  const converted = path.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path: converted, params };
}

function joinPaths(...parts: (string | undefined)[]): string {
  return `/${parts
    .filter((p): p is string => typeof p === 'string' && p.length > 0)
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/')}`;
}

/**
 * Builds the OpenAPI 3.0 document from the controllers Nest has registered: every route
 * carrying `@ApiDoc` is listed, with its path and method read from Nest's own routing
 * metadata and its schemas from the zod schemas it validates with.
 */
@Injectable()
export class OpenApiBuilder {
  private document?: Json;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  build(): Json {
    this.document ??= this.create();
    return this.document;
  }

  private create(): Json {
    const paths: Record<string, Record<string, Json>> = {};
    const tags = new Map<string, string | undefined>();
    for (const wrapper of this.discovery.getControllers()) {
      const { instance, metatype } = wrapper;
      if (!instance || !metatype) continue;
      const tag = Reflect.getMetadata(API_TAG, metatype) as
        { name: string; description?: string } | undefined;
      if (tag) tags.set(tag.name, tag.description);
      const base = Reflect.getMetadata(PATH_METADATA, metatype) as string | string[] | undefined;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const handler = (prototype as Record<string, unknown>)[methodName] as object;
        const doc = Reflect.getMetadata(API_DOC, handler) as RouteDoc | undefined;
        if (!doc) continue;
        const method =
          RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod].toLowerCase();
        const routePath = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
        const { path, params } = openApiPath(joinPaths(Array.isArray(base) ? base[0] : base, routePath));
        paths[path] ??= {};
        paths[path][method] = this.operation(
          `${metatype.name.replace(/Controller$/, '')}_${methodName}`,
          doc,
          params,
          tag?.name,
        );
      }
    }
    return {
      openapi: '3.0.3',
      info: {
        title: 'MTA admin API',
        version: '1.0.0',
        description:
          'Administer domains, DKIM keys, accounts, aliases, API tokens, the queue, suppressions and the delivery log. ' +
          'Every `/api/v1` route needs `Authorization: Bearer <token>`. Lists are paginated with `limit` and `cursor`.',
      },
      servers: [{ url: '/' }],
      tags: [...tags].map(([name, description]) => ({ name, ...(description ? { description } : {}) })),
      paths,
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API token, or ADMIN_TOKEN.' },
        },
        schemas: {
          Error: schemaOf(ErrorBody, 'output'),
          // What webhooks POST (the `webhooks` tag), one schema per event type.
          ...Object.fromEntries(
            Object.entries(WEBHOOK_EVENT_SCHEMAS).map(([type, schema]) => [
              `WebhookEvent_${type}`,
              schemaOf(schema, 'output'),
            ]),
          ),
          // What an endpoint created with `batch: true` is POSTed instead: several events at once.
          WebhookBatch: schemaOf(WebhookBatch, 'output'),
        },
      },
    };
  }

  private operation(operationId: string, doc: RouteDoc, pathParams: string[], tag?: string): Json {
    const parameters: Json[] = pathParams.map((name) => ({
      name,
      in: 'path',
      required: true,
      description: doc.params?.[name],
      schema: { type: 'string' },
    }));
    for (const [name, field] of Object.entries(doc.query?.shape ?? {})) {
      const schema = schemaOf(field as z.ZodType, 'output');
      const description = schema['description'];
      delete schema['description'];
      const required = !(field as z.ZodType).safeParse(undefined).success;
      parameters.push({ name, in: 'query', required, ...(description ? { description } : {}), schema });
    }
    const status = doc.status ?? 200;
    const success: Json = { description: status === 204 ? 'Done; no content.' : 'Success.' };
    if (doc.produces)
      success['content'] = { [doc.produces]: { schema: { type: 'string', format: 'binary' } } };
    else if (doc.response)
      success['content'] = { 'application/json': { schema: schemaOf(doc.response, 'output') } };
    const errors = [...new Set([...(doc.errors ?? []), ...(doc.public ? [] : [401]), 500])].sort();
    const responses: Json = { [String(status)]: success };
    for (const [code, description] of Object.entries(doc.otherStatuses ?? {}))
      responses[code] = { description };
    for (const code of errors) {
      responses[String(code)] = {
        description: ERROR_TEXT[code] ?? 'Error.',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    return {
      operationId,
      summary: doc.summary,
      ...(doc.description ? { description: doc.description } : {}),
      ...(tag ? { tags: [tag] } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(doc.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: schemaOf(doc.body, 'input') } },
            },
          }
        : {}),
      responses,
      security: doc.public ? [] : [{ bearer: [] }],
    };
  }
}
