/**
 * Test support for the end-to-end specs (not part of the module): boots the real admin-api
 * service through bootstrapService on a loopback port and talks to it over HTTP with fetch.
 * `useAdminApi()` gives a spec file its own database and Redis prefix (@mta/testing) and
 * the service on them, for the whole file.
 */
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll } from 'vitest';
import { createPrismaClient, newQueueId, type PrismaClient } from '@mta/db';
import { bootstrapService } from '@mta/runtime';
import { createTestDatabase, createTestRedis, freePort, type TestDatabase } from '@mta/testing';
import { AdminApiModule } from '../admin-api.module';

export const BOOTSTRAP_TOKEN = 'test-bootstrap-token-0123456789abcdef';

export interface ApiResponse {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test code reads arbitrary JSON
  body: any;
  text: string;
}

export interface RequestOptions {
  body?: unknown;
  /** A token, or null for no Authorization header. Defaults to the bootstrap token. */
  token?: string | null;
  headers?: Record<string, string>;
}

export interface ApiHarness {
  app: INestApplication;
  base: string;
  /** A second client on the same database, to seed and inspect rows. */
  db: PrismaClient;
  request(method: string, path: string, options?: RequestOptions): Promise<ApiResponse>;
  close(): Promise<void>;
}

export async function startAdminApi(options: {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  port: number;
  env?: Record<string, string>;
}): Promise<ApiHarness> {
  const app = await bootstrapService({
    service: 'admin-api',
    modules: [AdminApiModule],
    httpListen: 'ADMIN_LISTEN',
    env: {
      DATABASE_URL: options.databaseUrl,
      REDIS_URL: options.redisUrl,
      REDIS_PREFIX: options.redisPrefix,
      ADMIN_LISTEN: `127.0.0.1:${options.port}`,
      ADMIN_TOKEN: BOOTSTRAP_TOKEN,
      MTA_HOSTNAME: 'mx.test.example',
      LOG_LEVEL: 'silent',
      ...options.env,
    },
  });
  const base = `http://127.0.0.1:${options.port}`;
  const db = createPrismaClient(options.databaseUrl);
  return {
    app,
    base,
    db,
    async request(method, path, { body, token = BOOTSTRAP_TOKEN, headers = {} } = {}) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown = undefined;
      if (response.headers.get('content-type')?.includes('json')) parsed = JSON.parse(text);
      return { status: response.status, headers: response.headers, body: parsed, text };
    },
    async close() {
      await db.$disconnect();
      await app.close();
    },
  };
}

/** The admin API of one spec file, as `useAdminApi()` returns it: usable in hooks and tests. */
export interface AdminApi extends Omit<ApiHarness, 'close'> {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly redisPrefix: string;
}

/**
 * Registers the spec file's beforeAll (a fresh test database and Redis prefix, then the
 * admin API on a free port) and afterAll (the API closed, the database dropped, the Redis
 * keys deleted). Call it once at the top of a spec file, before the file's own hooks.
 */
export function useAdminApi(env: Record<string, string> = {}): AdminApi {
  let db: TestDatabase | undefined;
  let redis: Awaited<ReturnType<typeof createTestRedis>> | undefined;
  let api: ApiHarness | undefined;

  beforeAll(async () => {
    [db, redis] = await Promise.all([createTestDatabase(), createTestRedis()]);
    api = await startAdminApi({
      databaseUrl: db.url,
      redisUrl: redis.url,
      redisPrefix: redis.prefix,
      port: await freePort(),
      env,
    });
  });

  afterAll(async () => {
    await api?.close();
    await Promise.all([db?.drop(), redis?.cleanup()]);
  });

  const started = (): {
    api: ApiHarness;
    db: TestDatabase;
    redis: Awaited<ReturnType<typeof createTestRedis>>;
  } => {
    if (!api || !db || !redis)
      throw new Error('useAdminApi(): the admin API is only there inside hooks and tests');
    return { api, db, redis };
  };
  return {
    get app() {
      return started().api.app;
    },
    get base() {
      return started().api.base;
    },
    get db() {
      return started().api.db;
    },
    request: (method, path, options) => started().api.request(method, path, options),
    get databaseUrl() {
      return started().db.url;
    },
    get redisUrl() {
      return started().redis.url;
    },
    get redisPrefix() {
      return started().redis.prefix;
    },
  };
}

/** `expect`-friendly: the field names of a 400 error body. */
export function badFields(response: ApiResponse): string[] {
  return (response.body?.error?.fields ?? []).map((f: { field: string }) => f.field);
}

export interface SeedRecipient {
  address: string;
  route?: 'local' | 'remote' | 'relay' | null;
  status?: 'queued' | 'deferred' | 'delivered' | 'failed' | 'bounced' | 'held';
  attempts?: number;
}

/**
 * Stores a message the way intake does (message row, recipients, chunks), for the message
 * and queue tests until the intake services exist.
 */
export async function seedMessage(
  db: PrismaClient,
  options: {
    sender?: string;
    recipients: SeedRecipient[];
    raw?: string;
    receivedAt?: Date;
    state?: 'received' | 'queued' | 'held' | 'done';
  },
) {
  const raw =
    options.raw ??
    'From: Alice <alice@example.com>\r\nTo: bob@remote.example\r\nSubject: Hello\r\n  folded\r\nMessage-ID: <1@example.com>\r\n\r\nHi Bob.\r\n';
  const body = Buffer.from(raw, 'utf8');
  const half = Math.floor(body.length / 2);
  return db.message.create({
    data: {
      queueId: newQueueId(),
      sender: options.sender ?? 'alice@example.com',
      source: 'submission',
      state: options.state ?? 'queued',
      size: body.length,
      receivedAt: options.receivedAt,
      subject: 'Hello folded',
      fromHeader: 'Alice <alice@example.com>',
      messageIdHeader: '<1@example.com>',
      clientAddress: '192.0.2.1',
      authUser: 'alice@example.com',
      chunks: {
        create: [
          { seq: 0, data: body.subarray(0, half) },
          { seq: 1, data: body.subarray(half) },
        ],
      },
      recipients: {
        create: options.recipients.map((r) => ({
          address: r.address,
          domain: r.address.slice(r.address.lastIndexOf('@') + 1).toLowerCase(),
          route: r.route === undefined ? 'remote' : r.route,
          status: r.status ?? 'queued',
          attempts: r.attempts ?? 0,
        })),
      },
    },
    include: { recipients: true },
  });
}
