/**
 * The verdict of mx's inbound checks as the admin API shows it, and the per-domain DMARC switch
 * doing what it says: a real mx (@mta/intake's startMx) on the API's database, swaks as the
 * client, a loopback DNS server with SPF and DMARC records.
 */
import { execFile } from 'node:child_process';
import { loadConfig } from '@mta/config';
import { createPgPool, createPrismaClient } from '@mta/db';
import { startMx, type RunningSmtpService } from '@mta/intake';
import { createLogger, Metrics } from '@mta/observability';
import { createRedisConnection, JobProducer, redisReady } from '@mta/queue';
import { startFakeDnsServer, txtRecord, until, type FakeDnsServer } from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useAdminApi } from './harness';

const api = useAdminApi();

/** swaks from 127.0.0.1; resolves with its whole transcript. */
function swaks(port: number, from: string, to: string): Promise<string> {
  const data = `From: <${from}>\r\nTo: <${to}>\r\nSubject: verdict\r\n\r\nHello.\r\n`;
  return new Promise((resolve) => {
    execFile(
      'swaks',
      [
        '--server',
        '127.0.0.1',
        '--port',
        String(port),
        '--helo',
        'client.example',
        '--from',
        from,
        '--to',
        to,
        '--data',
        data,
      ],
      { encoding: 'utf8', timeout: 60_000 },
      (_error, stdout, stderr) => resolve(`${stdout}${stderr}`),
    );
  });
}
const queueIdOf = (transcript: string) => /queued as ([0-9A-Z]{16})/.exec(transcript)?.[1];

describe('inbound authentication through the admin API', () => {
  let dns: FakeDnsServer;
  let mx: RunningSmtpService;
  let port: number;
  const closers: (() => Promise<unknown> | void)[] = [];

  beforeAll(async () => {
    dns = await startFakeDnsServer({
      records: [
        txtRecord('forged.test', 'v=spf1 ip4:192.0.2.1 -all'),
        txtRecord('_dmarc.forged.test', 'v=DMARC1; p=reject'),
        txtRecord('fine.test', 'v=spf1 ip4:127.0.0.1 -all'),
        txtRecord('_dmarc.fine.test', 'v=DMARC1; p=reject'),
      ],
    });
    const db = createPrismaClient(api.databaseUrl);
    const pool = createPgPool(api.databaseUrl);
    const redis = createRedisConnection(api.redisUrl, 'client');
    await redisReady(redis);
    const producer = new JobProducer(redis, api.redisPrefix);
    const config = loadConfig({
      MTA_HOSTNAME: 'mx.api.example',
      MX_LISTEN: '127.0.0.1:0',
      REDIS_PREFIX: api.redisPrefix,
      DNS_SERVERS: `${dns.host}:${dns.port}`,
    });
    const logger = createLogger('mx', 'silent');
    mx = await startMx({ config, db, pool, producer, redis, logger, metrics: new Metrics('test') });
    port = Number(mx.addresses[0].split(':').pop());
    closers.push(
      () => mx.close(),
      () => producer.close(),
      () => redis.disconnect(),
      () => db.$disconnect(),
      () => pool.end(),
      () => dns.close(),
    );
  });
  afterAll(async () => {
    for (const close of closers) await close();
  });

  it('GET /api/v1/messages/:id shows the SPF, DKIM, ARC and DMARC results and the decision', async () => {
    expect((await api.request('POST', '/api/v1/domains', { body: { name: 'inbox.example' } })).status).toBe(
      201,
    );
    const queueId = queueIdOf(await swaks(port, 'news@fine.test', 'postmaster@inbox.example'));
    expect(queueId).toBeDefined();
    const detail = await api.request('GET', `/api/v1/messages/${queueId}`);
    expect(detail.status).toBe(200);
    expect(detail.body.quarantine).toBe(false);
    expect(detail.body.authentication).toMatchObject({
      spf: {
        mailfrom: { domain: 'fine.test', result: 'pass' },
        helo: { domain: 'client.example', result: 'none' },
      },
      dkim: [{ result: 'none', info: 'dkim=none (message not signed)' }],
      arc: { result: 'none' },
      dmarc: {
        result: 'pass',
        fromDomain: 'fine.test',
        policy: 'reject',
        alignment: { spf: 'fine.test', dkim: null },
      },
      decision: { action: 'accept', reply: null },
    });
    const ar = detail.body.headers.find((h: { name: string }) => h.name === 'Authentication-Results');
    expect(ar.value).toMatch(/^mx\.api\.example; spf=pass .* dmarc=pass/);
  });

  it('dmarcEnforce: false on the domain turns the 550 into accept + tag, and back', async () => {
    const created = await api.request('POST', '/api/v1/domains', {
      body: { name: 'lenient.example', dmarcEnforce: false },
    });
    expect(created.body).toMatchObject({ name: 'lenient.example', dmarcEnforce: false });
    const accepted = await swaks(port, 'ceo@forged.test', 'postmaster@lenient.example');
    const detail = await api.request('GET', `/api/v1/messages/${queueIdOf(accepted)}`);
    expect(detail.body.authentication).toMatchObject({
      dmarc: { result: 'fail', policy: 'reject' },
      decision: { action: 'accept', appliedPolicy: 'reject' },
    });

    const patched = await api.request('PATCH', '/api/v1/domains/lenient.example', {
      body: { dmarcEnforce: true },
    });
    expect(patched.body.dmarcEnforce).toBe(true);
    // mx caches a domain for 5 s (PrismaDirectory): within that the old setting may still hold.
    const refused = await until('the 550 of p=reject', async () => {
      const t = await swaks(port, 'ceo@forged.test', 'postmaster@lenient.example');
      return /^<\*\* +550 5\.7\.1 /m.test(t) ? t : undefined;
    });
    expect(refused).toMatch(/DMARC policy of forged\.test/);
    // The refused transaction left an event (no message row: nothing was stored).
    const events = await api.request('GET', '/api/v1/events?type=refused');
    expect(events.body.items[0]).toMatchObject({
      type: 'refused',
      messageId: null,
      queueId: expect.stringMatching(/^[0-9A-Z]{16}$/),
      detail: { sender: 'ceo@forged.test', recipients: ['postmaster@lenient.example'] },
    });
    expect(events.body.items[0].detail.reply).toMatch(/^550 5\.7\.1 /);
  });

  it('validates dmarcEnforce as a boolean', async () => {
    const bad = await api.request('PATCH', '/api/v1/domains/inbox.example', { body: { dmarcEnforce: 'no' } });
    expect(bad.status).toBe(400);
  });
});
