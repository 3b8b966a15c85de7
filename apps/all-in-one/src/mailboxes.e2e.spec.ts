/**
 * Issue 16 end to end, through the built bundle and real peers: accounts and aliases made with the
 * admin API; mail in through mx and submission (swaks); out to Maildir and to Postfix smtp-sink
 * as the remote MX (127.0.0.2 and .3, behind a DNS server in this process).
 *
 * - an alias with two local targets and one remote: two Maildir files, one remote delivery whose
 *   envelope sender is our SRS0 address; a bounce to that address reaches the original sender;
 * - a forward the remote MX refuses: our DSN goes to the original sender, not to the SRS address;
 * - alias loops and nesting past ALIAS_MAX_DEPTH: 550 5.4.6 at RCPT;
 * - a mixed-case account made through the API logs in and receives;
 * - an `@domain` send-as works, another domain gets 553.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Srs } from '@mta/mail';
import {
  aRecord,
  collectJsonLogs,
  createTestDatabase,
  createTestRedis,
  freePort,
  haveSmtpSink,
  mxRecord,
  portFreeOn,
  startFakeDns,
  startSmtpSink,
  until,
  type SinkDump,
  type SmtpSink,
  type TestDatabase,
  requirePeer,
  haveSwaks,
  runSwaks,
} from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const main = path.resolve(__dirname, '../../../dist/apps/all-in-one/main.js');
const havePeers = requirePeer('smtp-sink', haveSmtpSink()) && requirePeer('swaks', haveSwaks());
if (process.env['CI'] === 'true' && !havePeers) throw new Error('swaks and smtp-sink are required under CI');

const MAIN = '127.0.0.2';
const REJECT = '127.0.0.3';
const ADMIN_TOKEN = 'e2e-mailboxes-admin-token-0123456789';
const PASSWORD = 'a long enough password 16';
const SRS_SECRET = 'e2e srs secret, sixteen plus';
const ZONE = [
  mxRecord('remote.test', 10, 'mx.remote.test'),
  mxRecord('origin.test', 10, 'mx.remote.test'),
  aRecord('mx.remote.test', MAIN),
  mxRecord('reject.test', 10, 'mx.reject.test'),
  aRecord('mx.reject.test', REJECT),
];

function swaks(port: number, args: string[]): Promise<string> {
  return runSwaks(['--server', '127.0.0.1', '--port', String(port), ...args]);
}
const queued = (t: string) => /250 2\.0\.0 .*queued as ([0-9A-Z]{16})/.test(t);
const subjectOf = (d: SinkDump) =>
  /^Subject: (.*)$/im.exec(d.content.slice(0, d.content.indexOf('\n\n')))?.[1];

describe.skipIf(!havePeers)('mailboxes end to end (issue 16)', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let dns: Awaited<ReturnType<typeof startFakeDns>>;
  let sink: SmtpSink;
  let rejecting: SmtpSink;
  let child: ChildProcess;
  let maildir: string;
  let mx: number;
  let submission: number;
  let api: (method: string, url: string, body?: unknown) => Promise<Response>;

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    dns = await startFakeDns(ZONE);
    const deliveryPort = await portFreeOn([MAIN, REJECT]);
    sink = await startSmtpSink({ host: MAIN, port: deliveryPort });
    rejecting = await startSmtpSink({ host: REJECT, port: deliveryPort, faults: ['-f', 'RCPT'] });
    maildir = mkdtempSync(path.join(tmpdir(), 'e2e-mailboxes-'));
    const http = await freePort();
    child = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        ALL_IN_ONE_MODE: 'single', // one process starts faster on a 2-core runner
        NODE_ENV: 'development',
        ADMIN_TOKEN,
        DATABASE_URL: database.url,
        REDIS_URL: redis.url,
        REDIS_PREFIX: redis.prefix,
        MTA_HOSTNAME: 'mta.e2e.test',
        ADMIN_LISTEN: `127.0.0.1:${http}`,
        MX_LISTEN: `127.0.0.1:${(mx = await freePort())}`,
        SUBMISSION_LISTEN: `127.0.0.1:${(submission = await freePort())}`,
        SUBMISSIONS_LISTEN: `127.0.0.1:${await freePort()}`,
        DNS_SERVERS: `127.0.0.1:${dns.port}`,
        DELIVERY_PORT: String(deliveryPort),
        LOCAL_DELIVERY: `maildir:${maildir}`,
        SRS_SECRET,
        ALIAS_MAX_DEPTH: '2',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    collectJsonLogs(child.stdout, String(child.pid));
    const base = `http://127.0.0.1:${http}/api/v1`;
    api = (method, url, body) =>
      fetch(`${base}${url}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    await until('the API to answer', async () => (await fetch(`${base.replace('/api/v1', '')}/healthz`)).ok);
    const made = async (url: string, body: unknown) => {
      const response = await api('POST', url, body);
      expect(response.status, `${url} ${JSON.stringify(body)}: ${await response.clone().text()}`).toBe(201);
      return response.json();
    };
    await made('/domains', { name: 'local.test' });
    await made('/accounts', { address: 'Dana.Mixed@Local.test', password: PASSWORD });
    await made('/accounts', { address: 'erin@local.test', password: PASSWORD, sendAs: ['@Brand.test'] });
    await made('/aliases', {
      address: 'team@local.test',
      targets: ['DANA.MIXED@local.test', 'erin@local.test', 'Friend@remote.test'],
    });
    await made('/aliases', { address: 'bouncy@local.test', targets: ['nobody@reject.test'] });
    await made('/aliases', { address: 'loop-a@local.test', targets: ['loop-b@local.test'] });
    await made('/aliases', { address: 'loop-b@local.test', targets: ['loop-a@local.test'] });
    await made('/aliases', { address: 'deep1@local.test', targets: ['erin@local.test'] });
    await made('/aliases', { address: 'deep2@local.test', targets: ['deep1@local.test'] });
    await made('/aliases', { address: 'deep3@local.test', targets: ['deep2@local.test'] });
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await sink?.stop();
    await rejecting?.stop();
    await dns?.close();
    await database?.drop();
    await redis?.cleanup();
    if (maildir) rmSync(maildir, { recursive: true, force: true });
  }, 60_000);

  /** Messages in a mailbox's Maildir (new/), as text. */
  const mailbox = (address: string) => {
    const [local, domain] = address.toLowerCase().split('@');
    const dir = path.join(maildir, domain, local, 'Maildir', 'new');
    return existsSync(dir) ? readdirSync(dir).map((f) => readFileSync(path.join(dir, f), 'utf8')) : [];
  };
  const inMailbox = (address: string, subject: string) =>
    until(`"${subject}" in ${address}`, () => {
      const found = mailbox(address).filter(
        (m) => m.includes(`Subject: ${subject}\r\n`) || m.includes(`Subject: ${subject}\n`),
      );
      return found.length > 0 ? found : undefined;
    });
  const atSink = (subject: string) =>
    until(`"${subject}" at the remote MX`, () => {
      const found = sink.dumps().filter((d) => subjectOf(d) === subject);
      return found.length > 0 ? found : undefined;
    });
  const mx25 = (from: string, to: string, subject: string) =>
    swaks(mx, ['--from', from, '--to', to, '--h-Subject', subject, '--body', `Body of ${subject}.`]);

  it('a mixed-case account made through the API logs in (any case) and receives through mx', async () => {
    const login = await swaks(submission, [
      '--tls',
      '--auth',
      'PLAIN',
      '--auth-user',
      'DANA.MIXED@local.TEST',
      '--auth-password',
      PASSWORD,
      '--from',
      'dana.mixed@local.test',
      '--to',
      'erin@local.test',
      '--h-Subject',
      'login e2e',
    ]);
    expect(login).toMatch(/<~\s+235 2\.7\.0/);
    expect(queued(login), login).toBe(true);
    await inMailbox('erin@local.test', 'login e2e');
    expect(queued(await mx25('carol@origin.test', 'Dana.Mixed@LOCAL.test', 'case e2e'))).toBe(true);
    const [delivered] = await inMailbox('dana.mixed@local.test', 'case e2e');
    // The envelope keeps the case the sender used (Delivered-To), the mailbox is the account's.
    expect(delivered).toMatch(/^Delivered-To: Dana\.Mixed@local\.test$/m);
  });

  it('an alias delivers to two Maildirs and forwards to the remote target with an SRS sender; a bounce to it reaches the original sender', async () => {
    expect(queued(await mx25('Carol@Origin.test', 'team@local.test', 'alias e2e'))).toBe(true);
    await inMailbox('dana.mixed@local.test', 'alias e2e');
    await inMailbox('erin@local.test', 'alias e2e');
    const [forwarded] = await atSink('alias e2e');
    const mailFrom = forwarded.meta['X-Mail-Args']?.[0] ?? '';
    const srsSender = /<(SRS0=[^>]+@e2e\.test)>/.exec(mailFrom)?.[1];
    expect(srsSender, mailFrom).toMatch(/^SRS0=[^=]{4}=[A-Z2-7]{2}=origin\.test=Carol@e2e\.test$/);
    expect(forwarded.meta['X-Rcpt-Args']).toEqual([expect.stringContaining('<Friend@remote.test>')]);
    expect(new Srs({ secret: SRS_SECRET, domain: 'e2e.test' }).reverse(srsSender ?? '')).toEqual({
      ok: true,
      address: 'Carol@origin.test',
    });

    // The remote end bounces to the SRS address: our mx takes it and passes it on to Carol.
    expect(queued(await mx25('<>', srsSender ?? '', 'bounce e2e'))).toBe(true);
    const [bounce] = await atSink('bounce e2e');
    expect(bounce.meta['X-Mail-Args']?.[0]).toMatch(/<>/);
    expect(bounce.meta['X-Rcpt-Args']).toEqual([expect.stringContaining('<Carol@origin.test>')]);
    // A forged one (another user in the same SRS frame) is refused.
    const forged = await swaks(mx, [
      '--from',
      '<>',
      '--to',
      (srsSender ?? '').replace('=Carol@', '=Dave@'),
      '--quit-after',
      'RCPT',
    ]);
    expect(forged).toMatch(/<\*+\s+550 5\.1\.1 .*invalid SRS signature/);
  });

  it('a forward the remote MX refuses comes back as our DSN to the original sender, not to the SRS address', async () => {
    expect(queued(await mx25('carol@origin.test', 'bouncy@local.test', 'refused e2e'))).toBe(true);
    const dsn = await until('the DSN at the original sender', () =>
      sink.dumps().find((d) => /nobody@reject\.test/.test(d.content) && /refused e2e/.test(d.content)),
    );
    expect(dsn.meta['X-Rcpt-Args']).toEqual([expect.stringContaining('<carol@origin.test>')]);
    expect(dsn.content).toMatch(/^Content-Type: multipart\/report;\s+report-type=delivery-status/im);
    expect(dsn.content).toMatch(/^Original-Recipient: rfc822; ?bouncy@local\.test$/im);
  });

  it('refuses an alias loop and nesting past ALIAS_MAX_DEPTH with 550 5.4.6 at RCPT; the deepest allowed delivers', async () => {
    const loop = await swaks(mx, [
      '--from',
      'carol@origin.test',
      '--to',
      'loop-a@local.test',
      '--quit-after',
      'RCPT',
    ]);
    expect(loop).toMatch(
      /<\*+\s+550 5\.4\.6 .*alias loop \(loop-a@local\.test -> loop-b@local\.test -> loop-a@local\.test\)/,
    );
    const deep = await swaks(mx, [
      '--from',
      'carol@origin.test',
      '--to',
      'deep3@local.test',
      '--quit-after',
      'RCPT',
    ]);
    expect(deep).toMatch(/<\*+\s+550 5\.4\.6 .*nested deeper than 2 aliases/);
    expect(queued(await mx25('carol@origin.test', 'deep2@local.test', 'deep e2e'))).toBe(true);
    await inMailbox('erin@local.test', 'deep e2e');
  });

  it('an @domain send-as lets erin send as any address of brand.test; another domain gets 553', async () => {
    const auth = ['--tls', '--auth', 'PLAIN', '--auth-user', 'erin@local.test', '--auth-password', PASSWORD];
    const ok = await swaks(submission, [
      ...auth,
      '--from',
      'News@brand.test',
      '--to',
      'friend@remote.test',
      '--h-From',
      'Brand News <news@BRAND.test>',
      '--h-Subject',
      'send-as e2e',
    ]);
    expect(queued(ok), ok).toBe(true);
    const [sent] = await atSink('send-as e2e');
    expect(sent.meta['X-Mail-Args']?.[0]).toMatch(/<News@brand\.test>/);
    const refused = await swaks(submission, [
      ...auth,
      '--from',
      'news@other.test',
      '--to',
      'friend@remote.test',
    ]);
    expect(refused).toMatch(/<~?\*+\s+553 5\.7\.1 <news@other\.test>: Sender address rejected/);
  });
});
