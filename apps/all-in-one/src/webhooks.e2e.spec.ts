/**
 * Issue 22 end to end: a mail goes in through mx (swaks), out to Postfix's smtp-sink (the MX of
 * a relay domain, found through a DNS server in this process), and its `delivered` event comes
 * out as a signed webhook to a Node http receiver on loopback (WEBHOOK_ALLOW_PRIVATE=true).
 * Python's hmac checks the signature, independently of our signer. The retry window is 4 s
 * here (WEBHOOK_RETRY_WINDOW_MS) instead of 24 h, so "failing for the whole window" happens
 * while the test waits for it, without sleeping or moving clocks.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  aRecord,
  createTestDatabase,
  createTestRedis,
  freePort,
  haveSmtpSink,
  mxRecord,
  portFreeOn,
  pythonWebhookVerify,
  requirePeer,
  startFakeDns,
  startSmtpSink,
  startWebhookReceiver,
  until,
  type SmtpSink,
  type TestDatabase,
  type WebhookReceiver,
  haveSwaks,
  runSwaks as swaks,
} from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../../..');
const main = path.join(root, 'dist/apps/all-in-one/main.js');
const MX = '127.0.0.2'; // far.test's MX
const ADMIN_TOKEN = 'e2e-webhooks-admin-token-0123456789';
const havePeers =
  requirePeer('smtp-sink', haveSmtpSink()) &&
  requirePeer('swaks', haveSwaks()) &&
  requirePeer('python3', spawnSync('/usr/bin/python3', ['--version']).status === 0);

describe.skipIf(!havePeers)('webhooks (all-in-one)', () => {
  let database: TestDatabase;
  let testRedis: Awaited<ReturnType<typeof createTestRedis>>;
  let dns: Awaited<ReturnType<typeof startFakeDns>>;
  let sink: SmtpSink;
  let receiver: WebhookReceiver;
  let app: ChildProcess;
  let api: string;
  let mxPort: number;

  async function call(method: string, route: string, body?: unknown) {
    const response = await fetch(`${api}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    testRedis = await createTestRedis();
    dns = await startFakeDns([mxRecord('far.test', 10, 'mx.far.test'), aRecord('mx.far.test', MX)]);
    const sinkPort = await portFreeOn([MX]);
    sink = await startSmtpSink({ host: MX, port: sinkPort });
    receiver = await startWebhookReceiver({
      '/ok': 200,
      '/flaky': [500, 200],
      '/dead': 'never',
      '/tamper': 200,
      '/batch': 200,
    });
    const httpPort = await freePort();
    mxPort = await freePort();
    api = `http://127.0.0.1:${httpPort}/api/v1`;
    app = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        // One process: it serves /healthz once every module is up (supervise.e2e.spec.ts tests the default mode).
        ALL_IN_ONE_MODE: 'single',
        ADMIN_TOKEN,
        NODE_ENV: 'development',
        DATABASE_URL: database.url,
        REDIS_URL: testRedis.url,
        REDIS_PREFIX: testRedis.prefix,
        MTA_HOSTNAME: 'mta.e2e.test',
        ADMIN_LISTEN: `127.0.0.1:${httpPort}`,
        MX_LISTEN: `127.0.0.1:${mxPort}`,
        SUBMISSION_LISTEN: `127.0.0.1:${await freePort()}`,
        SUBMISSIONS_LISTEN: `127.0.0.1:${await freePort()}`,
        DNS_SERVERS: `127.0.0.1:${dns.port}`,
        DELIVERY_PORT: String(sinkPort),
        POLICY_INBOUND_CHECKS: 'false',
        WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64'),
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_RETRY_FIRST_MS: '200',
        WEBHOOK_RETRY_WINDOW_MS: '4000',
        WEBHOOK_CONNECT_TIMEOUT_MS: '1000',
        WEBHOOK_TIMEOUT_MS: '500',
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    await until(
      'all-in-one to start',
      async () => (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok,
      60_000,
    );
    expect((await call('POST', '/domains', { name: 'far.test', type: 'relay' })).status).toBe(201);
  }, 90_000);

  afterAll(async () => {
    if (app && app.exitCode === null) {
      const exited = new Promise((resolve) => app.once('exit', resolve));
      app.kill('SIGTERM');
      await exited;
    }
    await Promise.all([sink?.stop(), dns?.close(), receiver?.close()]);
    await database?.drop();
    await testRedis?.cleanup();
  }, 60_000);

  /** An endpoint that takes one event per POST (`batch: false`; batches are the default). */
  async function endpoint(route: string, eventTypes: string[]) {
    const created = await call('POST', '/webhooks', { url: receiver.url(route), eventTypes, batch: false });
    expect(created.status).toBe(201);
    return created.body as { id: string; secret: string };
  }

  async function sendMail(subject: string): Promise<string> {
    const transcript = await swaks([
      ...['--server', `127.0.0.1:${mxPort}`, '--from', 'alice@sender.test', '--to', 'bob@far.test'],
      ...['--header', `Subject: ${subject}`],
    ]);
    const queueId = /250 2\.0\.0 .*queued as ([0-9A-Z]{16})/.exec(transcript)?.[1];
    if (!queueId) throw new Error(`not queued:\n${transcript}`);
    return queueId;
  }

  const bodiesOf = (route: string) =>
    receiver.received(route).map((r) => ({ ...r, json: JSON.parse(r.body) as Record<string, unknown> }));

  it('delivers a mail and POSTs its `delivered` event, signed (checked by Python), once per 2xx', async () => {
    const ok = await endpoint('/ok', ['delivered']);
    const flaky = await endpoint('/flaky', ['delivered', 'deferred']);
    const queueId = await sendMail('webhook me');
    await until('the sink to have the mail', () =>
      sink.dumps().some((d) => d.content.includes('Subject: webhook me')),
    );
    const [request] = await until('the delivered webhook', () =>
      receiver.received('/ok').length ? bodiesOf('/ok') : undefined,
    );
    expect(request.json).toMatchObject({
      type: 'delivered',
      data: {
        queueId,
        sender: 'alice@sender.test',
        recipient: 'bob@far.test',
        attempt: 1,
        reply: { code: 250 },
        mxHost: 'mx.far.test',
        tls: { policy: expect.any(String) },
      },
    });
    expect(request.json['id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(request.headers['content-type']).toBe('application/json');
    expect(await pythonWebhookVerify(ok.secret, request)).toBe('valid');
    // Another endpoint's secret does not make it valid.
    expect(await pythonWebhookVerify(flaky.secret, request)).toBe('invalid');

    // The flaky receiver answered 500, then 200 to the retry: the same event twice on the wire
    // (same webhook-id, for deduplication), once accepted, both attempts on record.
    const flakyRequests = await until('the retry', () =>
      receiver.received('/flaky').length >= 2 ? bodiesOf('/flaky') : undefined,
    );
    expect(flakyRequests).toHaveLength(2);
    expect(flakyRequests[1].headers['webhook-id']).toBe(flakyRequests[0].headers['webhook-id']);
    expect(flakyRequests[1].json['id']).toBe(request.json['id']);
    const deliveries = await until('the delivery delivered', async () => {
      const page = await call('GET', `/webhooks/${flaky.id}/deliveries`);
      return page.body.items[0]?.status === 'delivered' ? page.body.items : undefined;
    });
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ eventType: 'delivered', attempts: 2, lastStatus: 200 });
    expect(deliveries[0].attemptLog.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 200]);
    expect(receiver.received('/flaky')).toHaveLength(2);
  });

  it('a tampered body fails the signature check', async () => {
    const hook = await endpoint('/tamper', ['test']);
    expect((await call('POST', `/webhooks/${hook.id}/test`)).status).toBe(202);
    const [request] = await until('the test event', () =>
      receiver.received('/tamper').length ? receiver.received('/tamper') : undefined,
    );
    expect(JSON.parse(request.body)).toMatchObject({ type: 'test', data: { endpointId: hook.id } });
    expect(await pythonWebhookVerify(hook.secret, request)).toBe('valid');
    const tampered = { ...request, body: request.body.replace('a test event', 'a tost event') };
    expect(tampered.body).not.toBe(request.body);
    expect(await pythonWebhookVerify(hook.secret, tampered)).toBe('invalid');
  });

  it('retries an endpoint that never answers, then disables it with the reason', async () => {
    const hook = await endpoint('/dead', ['test']);
    expect((await call('POST', `/webhooks/${hook.id}/test`)).status).toBe(202);
    const disabled = await until(
      'the endpoint disabled',
      async () => {
        const { body } = await call('GET', `/webhooks/${hook.id}`);
        return body.enabled ? undefined : body;
      },
      60_000,
    );
    expect(disabled.disabledReason).toMatch(/every attempt failed since .*no answer within 500 ms/);
    expect(receiver.received('/dead').length).toBeGreaterThanOrEqual(2);
    // An operator sees it on /metrics too: the endpoint disabled, its POSTs failed.
    const metrics = await (await fetch(api.replace(/\/api\/v1$/, '/metrics'))).text();
    expect(metrics).toMatch(/^mta_webhook_endpoints_disabled_total(\{[^}]*\})? 1$/m);
    const failedPosts = /^mta_webhook_posts_total\{[^}]*result="failed"[^}]*\} (\d+)$/m.exec(metrics);
    expect(Number(failedPosts?.[1])).toBeGreaterThanOrEqual(receiver.received('/dead').length);
    const { body } = await call('GET', `/webhooks/${hook.id}/deliveries`);
    expect(body.items[0]).toMatchObject({ status: 'failed' });
    expect(body.items[0].attemptLog.length).toBe(receiver.received('/dead').length);
    expect(
      body.items[0].attemptLog.every((a: { statusCode: null; error: string }) => a.statusCode === null),
    ).toBe(true);

    // Replayed by hand once it is enabled again: sent again with the same webhook-id.
    expect((await call('POST', `/webhooks/${hook.id}/deliveries/${body.items[0].id}/replay`)).status).toBe(
      409,
    );
    expect(
      (await call('PATCH', `/webhooks/${hook.id}`, { enabled: true, url: receiver.url('/ok') })).status,
    ).toBe(200);
    expect((await call('POST', `/webhooks/${hook.id}/deliveries/${body.items[0].id}/replay`)).status).toBe(
      202,
    );
    const replayed = await until('the replay', () =>
      receiver.received('/ok').find((r) => r.headers['webhook-id'] === body.items[0].id),
    );
    expect(await pythonWebhookVerify(hook.secret, replayed)).toBe('valid');
  }, 90_000);

  it('sends an endpoint created with the defaults its events as {"events": [...]}, each POST signed (checked by Python)', async () => {
    const created = await call('POST', '/webhooks', {
      url: receiver.url('/batch'),
      eventTypes: ['accepted', 'routed', 'delivered'],
    });
    expect(created.status).toBe(201);
    expect(created.body.batch).toBe(true);
    const queueId = await sendMail('batch me');
    const eventsOf = (body: string) =>
      (JSON.parse(body) as { events: { id: string; type: string; data: { queueId: string } }[] }).events;
    const requests = await until('the three events of the mail', () => {
      const got = receiver.received('/batch');
      const types = got.flatMap((r) =>
        eventsOf(r.body)
          .filter((e) => e.data.queueId === queueId)
          .map((e) => e.type),
      );
      return ['accepted', 'routed', 'delivered'].every((t) => types.includes(t)) ? got : undefined;
    });
    for (const request of requests) {
      expect(await pythonWebhookVerify(created.body.secret, request)).toBe('valid');
      expect(eventsOf(request.body).length).toBeGreaterThanOrEqual(1);
    }
    const ids = requests.flatMap((r) => eventsOf(r.body).map((e) => e.id));
    expect(new Set(ids).size).toBe(3);
    const page = await until('the deliveries delivered', async () => {
      const { body } = await call('GET', `/webhooks/${created.body.id}/deliveries`);
      return body.items.length === 3 && body.items.every((d: { status: string }) => d.status === 'delivered')
        ? body.items
        : undefined;
    });
    for (const delivery of page)
      expect(delivery.attemptLog).toEqual([
        { at: expect.any(String), statusCode: 200, latencyMs: expect.any(Number), error: null },
      ]);
  });
});
