/**
 * mtactl end to end: every command family against the running all-in-one bundle (real
 * PostgreSQL, Redis, SMTP with swaks), as a user runs it: its output for people, its --json for
 * scripts, the API's error messages and the exit codes of errors.ts.
 */
import { spawnSync } from 'node:child_process';
import { statSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, haveSwaks, requirePeer, txtRecord, until } from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentedRoute, openApiDocument } from './openapi.testutil';
import { ADMIN_TOKEN, startStack, type Run, type Stack } from './stack.testutil';

const PASSWORD = 'first password, long enough';
const NEW_PASSWORD = 'second password, long enough';

const json = <T = unknown>(run: Run): T => {
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
};

describe.skipIf(!requirePeer('swaks', haveSwaks()))('mtactl against a running stack', () => {
  let stack: Stack;
  const mtactl = (...args: Parameters<Stack['mtactl']>) => stack.mtactl(...args);

  /** Submits a message as alice (port 587 with STARTTLS and AUTH); its queue id. */
  const submit = (to: string, subject: string, password = NEW_PASSWORD) => {
    const run = spawnSync(
      'swaks',
      ['--server', '127.0.0.1', '--port', String(stack.submissionPort), '--tls', '--auth', 'PLAIN'].concat(
        ['--auth-user', 'alice@example.test', '--auth-password', password, '--from', 'alice@example.test'],
        ['--to', to, '--h-Subject', subject, '--body', `Body of ${subject}.`],
      ),
      { encoding: 'utf8' },
    );
    return /250 2\.0\.0 .*queued as ([0-9A-Za-z]{16})/.exec(`${run.stdout}${run.stderr}`)?.[1];
  };

  beforeAll(async () => {
    stack = await startStack();
  }, 120_000);
  afterAll(async () => stack?.close(), 60_000);

  it('login checks the token, saves URL and token with mode 0600, and later commands use them', async () => {
    const config = path.join(stack.dir, 'login', 'config.json');
    const env = { MTA_URL: undefined, MTA_TOKEN: undefined, MTACTL_CONFIG: config };
    const refused = await mtactl(['login', '--url', stack.url], { input: 'not-the-token\n', env });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(
      /^mtactl: the API refused the token \(401 unauthorized: .+\): run `mtactl login`/,
    );
    expect(() => statSync(config)).toThrow();

    const login = await mtactl(['login', '--url', stack.url], { input: `${ADMIN_TOKEN}\n`, env });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain(`logged in to ${stack.url}`);
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(config, 'utf8'))).toEqual({ url: stack.url, token: ADMIN_TOKEN });
    expect((await mtactl(['domains', 'list'], { env })).code).toBe(0);
    // The environment wins over the file.
    const wrong = await mtactl(['domains', 'list'], { env: { ...env, MTA_TOKEN: 'wrong-token' } });
    expect(wrong.code).toBe(4);
  });

  it('domains: add, list (table and --json), dns; the API refuses a duplicate and a bad name with its message', async () => {
    const added = await mtactl(['domains', 'add', 'Example.TEST']);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('added local domain example.test');
    expect((await mtactl(['domains', 'add', 'relay.test', '--relay', '--greylisting', 'off'])).code).toBe(0);

    const duplicate = await mtactl(['domains', 'add', 'example.test']);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toMatch(/^mtactl: .*example\.test.* \(409 conflict\)\n$/);
    const bad = await mtactl(['domains', 'add', 'not a domain']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      '(400 validation_failed)\n  name: expected a domain name such as example.com\n',
    );

    const table = await mtactl(['domains', 'list']);
    expect(table.stdout.split('\n')[0]).toMatch(
      /^DOMAIN\s+TYPE\s+ACCEPT-ALL\s+DMARC\s+GREYLISTING\s+CREATED$/,
    );
    expect(table.stdout).toMatch(/^relay\.test\s+relay\s+no\s+enforce\s+off\s+/m);
    const list = json<{ name: string; type: string }[]>(await mtactl(['domains', 'list', '--json']));
    expect(list.map((d) => [d.name, d.type])).toEqual([
      ['example.test', 'local'],
      ['relay.test', 'relay'],
    ]);

    const dns = await mtactl(['domains', 'dns', 'example.test']);
    expect(dns.code, dns.stderr).toBe(0);
    expect(dns.stdout).toMatch(/^example\.test\.\s+\d+\s+IN\s+MX\s+10\s+mx\.mtactl\.test\.$/m);
    expect(json<{ domain: string }>(await mtactl(['domains', 'dns', 'example.test', '--json'])).domain).toBe(
      'example.test',
    );
    expect((await mtactl(['domains', 'dns', 'nowhere.test'])).code).toBe(1);
  });

  it('dkim: rotate makes a key that does not sign, and activates it only once DNS serves its record', async () => {
    expect((await mtactl(['dkim', 'add', 'example.test', '--selector', 'old'])).code).toBe(0);
    const created = json<{ selector: string; active: boolean; dnsName: string; txt: string[] }>(
      await mtactl(['dkim', 'rotate', 'example.test', '--selector', 'new', '--json']),
    );
    expect(created).toMatchObject({ selector: 'new', active: false, dnsName: 'new._domainkey.example.test' });

    const early = await mtactl(['dkim', 'rotate', 'example.test', '--activate', 'new']);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('new._domainkey.example.test is missing in DNS');

    stack.zone.push(txtRecord(created.dnsName, created.txt));
    const done = await mtactl(['dkim', 'rotate', 'example.test', '--activate', 'new']);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain('example.test: rsa key new signs now');
    expect(done.stdout).toContain('old no longer signs');
    const keys = json<{ selector: string; active: boolean }[]>(
      await mtactl(['dkim', 'list', 'example.test', '--json']),
    );
    expect(Object.fromEntries(keys.map((k) => [k.selector, k.active]))).toEqual({ old: false, new: true });
    expect((await mtactl(['dkim', 'delete', 'example.test', 'old'])).code).toBe(0);
  });

  it('accounts and aliases: add (password from stdin), passwd (the new one logs in), list', async () => {
    const add = await mtactl(['accounts', 'add', 'alice@example.test'], { input: `${PASSWORD}\n` });
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).not.toContain(PASSWORD);
    const short = await mtactl(['accounts', 'add', 'bob@example.test'], { input: 'short\n' });
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('password: at least 8 characters');
    expect((await mtactl(['accounts', 'add', 'bob@example.test'])).code).toBe(2);

    expect(
      (await mtactl(['accounts', 'passwd', 'alice@example.test'], { input: `${NEW_PASSWORD}\n` })).code,
    ).toBe(0);
    expect(submit('alice@example.test', 'old password', PASSWORD)).toBeUndefined();
    expect(submit('alice@example.test', 'new password')).toMatch(/^[0-9A-Za-z]{16}$/);
    expect((await mtactl(['accounts', 'list'])).stdout).toMatch(/^alice@example\.test\s+no\s+-\s+/m);

    const alias = await mtactl([
      'aliases',
      'add',
      'sales@example.test',
      'alice@example.test',
      'out@remote.test',
    ]);
    expect(alias.code, alias.stderr).toBe(0);
    const aliases = json<{ address: string; targets: { address: string; kind: string }[] }[]>(
      await mtactl(['aliases', 'list', '--json']),
    );
    expect(aliases).toEqual([
      expect.objectContaining({
        address: 'sales@example.test',
        targets: [
          { address: 'alice@example.test', kind: 'account' },
          { address: 'out@remote.test', kind: 'address' },
        ],
      }),
    ]);
  });

  it('queue and messages: like mailq and postsuper, on mail that really came in', async () => {
    const queueId = submit('bob@remote.test', 'to the queue');
    expect(queueId).toBeDefined();
    const deferred = () =>
      until('the remote recipient to be deferred', async () => {
        const run = await mtactl(['messages', 'show', String(queueId), '--json']);
        return json<{ recipients: { status: string }[] }>(run).recipients[0]?.status === 'deferred';
      });
    await deferred();

    const queue = await mtactl(['queue']);
    expect(queue.code, queue.stderr).toBe(0);
    expect(queue.stdout).toMatch(/^Recipients: \d+ queued, 1 deferred, 0 held,/m);
    expect(queue.stdout).toMatch(/^remote\.test\s+0\s+1\s+0\s+1\s+no$/m);
    const summary = json<{ destinations: { domain: string; deferred: number }[] }>(
      await mtactl(['queue', '--json']),
    );
    expect(summary.destinations).toContainEqual(
      expect.objectContaining({ domain: 'remote.test', deferred: 1 }),
    );

    const list = await mtactl(['messages', 'list', '--status', 'deferred']);
    expect(list.stdout).toMatch(
      new RegExp(
        `^${queueId}\\s+queued\\s+\\d+\\s+\\S+\\s+alice@example\\.test\\s+bob@remote\\.test \\(deferred\\)$`,
        'm',
      ),
    );
    const show = await mtactl(['messages', 'show', String(queueId)]);
    expect(show.stdout).toMatch(/^Subject:\s+to the queue$/m);
    expect(show.stdout).toMatch(/^bob@remote\.test\s+deferred\s+remote\s+1\s+/m);
    const raw = await mtactl(['messages', 'raw', String(queueId)]);
    expect(raw.stdout).toMatch(/^Subject: to the queue\r$/m);

    const hold = await mtactl(['messages', 'hold', String(queueId)]);
    expect(hold.stdout).toBe(`${queueId}: held, 1 recipient(s) changed, state held\n`);
    expect((await mtactl(['queue'])).stdout).toMatch(/^remote\.test\s+0\s+0\s+1\s+1\s+no$/m);
    expect((await mtactl(['messages', 'release', String(queueId)])).stdout).toMatch(
      /: released, 1 recipient/,
    );
    await deferred();
    const retry = await mtactl(['messages', 'retry', String(queueId), '--json']);
    expect(json<{ message: { queueId: string } }[]>(retry)[0]?.message.queueId).toBe(queueId);

    // Several ids as postsuper takes them: a bad one is reported, the others done, exit 1.
    const mixed = await mtactl(['messages', 'hold', 'AAAAAAAAAAAAAAAA', String(queueId)]);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toContain(
      'mtactl: AAAAAAAAAAAAAAAA: message AAAAAAAAAAAAAAAA does not exist (404 not_found)',
    );
    expect(mixed.stdout).toContain(`${queueId}: held`);

    expect((await mtactl(['queue', 'pause', 'remote.test', '--reason', 'maintenance'])).code).toBe(0);
    expect((await mtactl(['queue'])).stdout).toMatch(/^remote\.test\s+.*\s+yes$/m);
    expect((await mtactl(['queue', 'resume', 'remote.test'])).code).toBe(0);

    expect((await mtactl(['messages', 'delete', String(queueId)])).stdout).toBe(`${queueId}: deleted\n`);
    const gone = await mtactl(['messages', 'show', String(queueId)]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/does not exist \(404 not_found\)/);
  }, 180_000); // two dozen mtactl runs and a delivery attempt: 30 s was too short on a busy machine

  it('suppressions: add, list, delete', async () => {
    expect((await mtactl(['suppressions', 'add', 'Gone@remote.test', '--reason', 'complaint'])).code).toBe(0);
    expect((await mtactl(['suppressions'])).stdout).toMatch(/^Gone@remote\.test\s+complaint\s+never\s+/m);
    expect((await mtactl(['suppressions', 'delete', 'Gone@remote.test'])).code).toBe(0);
    expect(json<unknown[]>(await mtactl(['suppressions', 'list', '--json']))).toEqual([]);
  });

  it('shaping: set, show, list, delete; the API refuses a bad rate with its message', async () => {
    const set = await mtactl(['shaping', 'set', 'Small-ISP.test', '--connections', '2', '--rate', '300/h']);
    expect(set.stdout).toBe('small-isp.test: 2 connections, 100 messages per connection, rate 300/h\n');
    expect((await mtactl(['shaping', 'show', 'small-isp.test'])).stdout).toMatch(
      /^Connections:\s+2 \(override\)\nPer connection:\s+100 \(default\)\nRate:\s+300\/h \(override\)$/m,
    );
    expect((await mtactl(['shaping'])).stdout).toMatch(/^small-isp\.test\s+2\s+-\s+300\/h\s+/m);
    const bad = await mtactl(['shaping', 'set', 'small-isp.test', '--rate', '10 a second']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/maxMessageRate: expected a rate such as 10\/s/);
    expect((await mtactl(['shaping', 'delete', 'small-isp.test'])).code).toBe(0);
    expect(json<unknown[]>(await mtactl(['shaping', 'list', '--json']))).toEqual([]);
  });

  it.each([
    ['from the event stream', []],
    ['polling (--interval)', ['--interval', '1']],
  ])('events: the log, and --follow prints new events as they happen until interrupted, %s', async (_how, mode) => {
    const recent = json<{ type: string }[]>(await mtactl(['events', '--json', '--limit', '100']));
    expect(recent.map((e) => e.type)).toContain('accepted');

    const follower = stack.spawnMtactl(['events', '--follow', '--json', ...mode, '--limit', '1']);
    let out = '';
    follower.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await until('the newest event', () => out.includes('\n'));
    const queueId = submit('alice@example.test', 'followed');
    await until('the new message in the followed log', () =>
      out
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { type: string; queueId: string })
        .some((e) => e.queueId === queueId && e.type === 'delivered'),
    );
    const exited = new Promise<number | null>((resolve) => follower.once('exit', resolve));
    follower.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it('tokens: create shows it once, it works, revoke ends it', async () => {
    const created = json<{ id: string; token: string }>(
      await mtactl(['tokens', 'create', 'e2e script', '--json']),
    );
    const asIt = { MTA_TOKEN: created.token };
    expect((await mtactl(['tokens'], { env: asIt })).stdout).toMatch(/\se2e script\s/);
    expect((await mtactl(['tokens', 'revoke', created.id])).code).toBe(0);
    expect((await mtactl(['tokens'], { env: asIt })).code).toBe(4);
  });

  it('exit codes: 2 for usage, 3 when the API cannot be reached, 4 without a token', async () => {
    const unknown = await mtactl(['domains', 'list', '--colour']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^mtactl: Unknown option '--colour'/);
    expect((await mtactl(['nonsense'])).code).toBe(2);
    const port = await freePort();
    const closed = await mtactl(['queue'], { env: { MTA_URL: `http://127.0.0.1:${port}` } });
    expect(closed.code).toBe(3);
    expect(closed.stderr).toBe(
      `mtactl: cannot reach the API at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`,
    );
    const none = await mtactl(['queue'], { env: { MTA_TOKEN: undefined } });
    expect(none.code).toBe(4);
    expect(none.stderr).toBe('mtactl: no API token: run `mtactl login` or set MTA_TOKEN\n');
  });

  it('sent only requests that are routes of the OpenAPI document the API serves', async () => {
    const sent = [...stack.requests];
    const document = await openApiDocument(stack.url);
    expect(sent.length).toBeGreaterThan(50);
    expect(sent.filter((request) => !documentedRoute(document, request))).toEqual([]);
  });
});
