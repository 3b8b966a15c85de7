/**
 * The daily TLS-RPT run (RFC 8460) end to end: results counted in Redis, the `_smtp._tls`
 * record from a DNS server on loopback, the mail report stored in PostgreSQL and queued, read
 * back and checked by Python's email parser (multipart/report, the gzipped JSON of §4.4), and
 * the HTTPS report POSTed to a server on loopback with a certificate from a test CA.
 */
import { execFile } from 'node:child_process';
import https from 'node:https';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@mta/config';
import { createPrismaClient, readMessageBuffer, type PrismaClient } from '@mta/db';
import { createLogger } from '@mta/observability';
import { JobProducer, QueueName } from '@mta/queue';
import {
  createTestCa,
  createTestDatabase,
  createTestRedis,
  startFakeDns,
  txtRecord,
  type TestCa,
  type TestDatabase,
} from '@mta/testing';
import { RedisTlsRptStore, utcDay } from '@mta/tls-policy';
import { TlsReportScheduler } from './tls-reports';

describe('daily TLS-RPT reports (RFC 8460 §5)', () => {
  let database: TestDatabase;
  let db: PrismaClient;
  let redisEnv: Awaited<ReturnType<typeof createTestRedis>>;
  let redis: Redis;
  let dns: Awaited<ReturnType<typeof startFakeDns>>;
  let ca: TestCa;
  let defaultCas: string[];
  let server: https.Server;
  const posted: { type: string | undefined; body: Buffer }[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createPrismaClient(database.url);
    redisEnv = await createTestRedis();
    redis = new Redis(redisEnv.url, { maxRetriesPerRequest: 1 });
    ca = createTestCa();
    defaultCas = tls.getCACertificates('default');
    tls.setDefaultCACertificates([...defaultCas, ca.cert]);
    const leaf = ca.issue(['localhost']);
    server = https.createServer({ cert: leaf.chain, key: leaf.key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        posted.push({ type: req.headers['content-type'], body: Buffer.concat(chunks) });
        res.writeHead(201).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as { port: number }).port;
    dns = await startFakeDns([
      txtRecord(
        '_smtp._tls.good.test',
        `v=TLSRPTv1; rua=mailto:tls-reports@reports.test,https://localhost:${port}/tlsrpt`,
      ),
    ]);
  }, 60_000);

  afterAll(async () => {
    tls.setDefaultCACertificates(defaultCas);
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await dns?.close();
    redis?.disconnect();
    await redisEnv?.cleanup();
    await db?.$disconnect();
    await database?.drop();
    ca?.close();
  });

  it('sends each policy domain its report by mail and HTTPS, once per day', async () => {
    const store = new RedisTlsRptStore(redis, redisEnv.prefix);
    const day = utcDay(new Date());
    const policy = {
      'policy-type': 'sts' as const,
      'policy-string': ['version: STSv1', 'mode: enforce', 'mx: mx.good.test', 'max_age: 86400'],
      'policy-domain': 'good.test',
      'mx-host': ['mx.good.test'],
    };
    for (let i = 0; i < 3; i++) await store.add('good.test', policy, null);
    const failure = { 'result-type': 'certificate-host-mismatch', 'receiving-mx-hostname': 'mx.good.test' };
    await store.add('good.test', policy, failure);
    await store.add('quiet.test', { ...policy, 'policy-domain': 'quiet.test' }, null);

    const config = loadConfig({
      MTA_HOSTNAME: 'mx.sender.test',
      DNS_SERVERS: `127.0.0.1:${dns.port}`,
      REDIS_PREFIX: redisEnv.prefix,
    });
    const producer = new JobProducer(redis, redisEnv.prefix);
    const logger = createLogger('delivery', 'silent');
    const scheduler = new TlsReportScheduler({ config, db, producer, redis, logger });
    const results = await scheduler.run(day);
    expect(results).toEqual([
      {
        domain: 'good.test',
        sent: [expect.stringMatching(/^mailto:/), expect.stringMatching(/^https:/)],
        failed: [],
      },
      { domain: 'quiet.test', sent: [], failed: [], skipped: 'no TLSRPTv1 record with a usable rua' },
    ]);
    expect(await scheduler.run(day)).toBeNull(); // the day is taken
    expect(await store.domains(day)).toEqual([]);

    // The HTTPS report (§5.4).
    expect(posted).toHaveLength(1);
    expect(posted[0].type).toBe('application/tlsrpt+gzip');
    const json = JSON.parse(gunzipSync(posted[0].body).toString());
    expect(json.policies[0].summary).toEqual({
      'total-successful-session-count': 3,
      'total-failure-session-count': 1,
    });

    // The mail report (§5.3): stored, queued, and as a mail parser reads it.
    const message = await db.message.findFirstOrThrow({
      where: { source: 'report' },
      include: { recipients: true },
    });
    expect(message).toMatchObject({
      sender: '',
      recipients: [{ address: 'tls-reports@reports.test', route: 'remote' }],
    });
    const jobs = await producer.queue(QueueName.Accepted).getJobs(['waiting', 'delayed', 'active']);
    expect(jobs.some((j) => j.data.messageIds.includes(message.id))).toBe(true);
    const parsed = await parseWithPython(await readMessageBuffer(db, message.id));
    expect(parsed).toMatchObject({
      content_type: 'multipart/report',
      report_type: 'tlsrpt',
      domain: 'good.test',
      submitter: 'sender.test',
      parts: ['text/plain', 'application/tlsrpt+gzip'],
    });
    expect(parsed.filename).toMatch(/^sender\.test!good\.test!\d+!\d+\.json\.gz$/);
    expect(parsed.report).toMatchObject({
      'organization-name': 'sender.test',
      'contact-info': 'postmaster@sender.test',
      'date-range': { 'start-datetime': `${day}T00:00:00Z`, 'end-datetime': `${day}T23:59:59Z` },
      policies: [
        {
          policy,
          summary: { 'total-successful-session-count': 3, 'total-failure-session-count': 1 },
          'failure-details': [{ ...failure, 'failed-session-count': 1 }],
        },
      ],
    });
    expect(typeof parsed.report['report-id']).toBe('string');
  });
});

/** Python's email package reads the report mail and unpacks the gzipped JSON. */
async function parseWithPython(mail: Buffer) {
  const script = `
import email, email.policy, gzip, json, sys
m = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
att = [p for p in m.iter_parts() if p.get_content_type() == 'application/tlsrpt+gzip'][0]
print(json.dumps({
  'content_type': m.get_content_type(), 'report_type': m.get_param('report-type'),
  'domain': m['TLS-Report-Domain'], 'submitter': m['TLS-Report-Submitter'],
  'parts': [p.get_content_type() for p in m.iter_parts()], 'filename': att.get_filename(),
  'report': json.loads(gzip.decompress(att.get_content())),
}))`;
  const child = promisify(execFile)('python3', ['-c', script], { encoding: 'utf8' });
  child.child.stdin?.end(mail);
  return JSON.parse((await child).stdout);
}
