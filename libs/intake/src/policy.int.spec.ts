import net from 'node:net';
import { loadConfig } from '@mta/config';
import {
  startPolicyService,
  type DnsListResolver,
  type PolicyServiceOptions,
  type RunningPolicyService,
} from '@mta/policy';
import { createRedisConnection, redisReady } from '@mta/queue';
import { aRecord, startFakeDns, TEST_REDIS_URL, txtRecord, until } from '@mta/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intakeFixture, type IntakeFixture } from './testing/intake-fixture';
import { lastReply, python, swaks } from './testing/peers';

const REASON = 'Listed for spamming, see https://bl.test/lookup?127.0.0.1';

/** An SMTP client that says one command at a time and returns the last line of each reply. */
async function smtpSession(port: number, localAddress: string) {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress });
  let buffer = '';
  const waiting: ((line: string) => void)[] = [];
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (line[3] !== '-') waiting.shift()?.(line);
    }
  });
  const reply = () => new Promise<string>((resolve) => waiting.push(resolve));
  const greeting = await reply();
  return {
    greeting,
    say: (line: string) => {
      const next = reply();
      socket.write(`${line}\r\n`);
      return next;
    },
    close: () => socket.destroy(),
  };
}

describe('mx with the policy service: DNS lists, greylisting, an absent or slow service', () => {
  let fx: IntakeFixture;
  let dns: Awaited<ReturnType<typeof startFakeDns>>;
  let redis: Redis;
  let port: number;
  let policy: RunningPolicyService | undefined;
  let config: PolicyServiceOptions['config'];

  const startPolicy = async (resolver?: DnsListResolver) => {
    policy = await startPolicyService({ config, db: fx.db, redis, resolver });
  };
  const stopPolicy = async () => {
    await policy?.close();
    policy = undefined;
  };

  beforeAll(async () => {
    dns = await startFakeDns([
      aRecord('1.0.0.127.bl.test', '127.0.0.2'),
      txtRecord('1.0.0.127.bl.test', REASON),
      // 127.0.0.3 is on the block list and on the allow list: the allow list wins.
      aRecord('3.0.0.127.bl.test', '127.0.0.2'),
      aRecord('3.0.0.127.wl.test', '127.0.0.2'),
    ]);
    fx = await intakeFixture();
    const env = {
      DNSBL_ZONES: 'bl.test',
      DNSWL_ZONES: 'wl.test',
      GREYLISTING: 'true',
      GREYLIST_DELAY_S: '1',
      POLICY_TIMEOUT_MS: '1000',
      DNS_SERVERS: `${dns.host}:${dns.port}`,
    };
    config = loadConfig({ ...env, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: fx.prefix });
    redis = createRedisConnection(TEST_REDIS_URL, 'client');
    await redisReady(redis);
    await startPolicy();
    [port] = (await fx.start('mx', env)).ports as [number];
  });
  afterAll(async () => {
    await stopPolicy();
    await fx?.close();
    redis?.disconnect();
    await dns?.close();
  });

  const send = (from: string, localAddress: string, sender = 'bob@remote.example') =>
    swaks(
      port,
      ['--local-interface', localAddress, '--from', sender, '--to', 'alice@local.example'],
      'Subject: x\r\n\r\nhi',
    );
  const queued = (t: { replies: string[] }) =>
    /queued as ([0-9A-Z]{16})/.exec(lastReply(t, '250 ') ?? '')?.[1];

  it('refuses a client on a DNS block list at connect with 554 5.7.1 and the zone TXT reason', async () => {
    const t = await send('bob@remote.example', '127.0.0.1');
    expect(t.replies[0], t.output).toBe(
      `554 5.7.1 Service unavailable; client [127.0.0.1] blocked using bl.test; ${REASON}`,
    );
    expect(queued(t)).toBeUndefined();
    expect(await fx.db.message.count({ where: { clientAddress: '127.0.0.1' } })).toBe(0);
  });

  it('lets a client on the allow list skip the block list and greylisting', async () => {
    const t = await send('bob@remote.example', '127.0.0.3');
    expect(queued(t), t.output).toBeDefined();
    expect(t.replies.some((r) => r.startsWith('451'))).toBe(false);
  });

  it('greylists a new triplet with 451 4.7.1, lets its retry through after the delay, and remembers it', async () => {
    const sender = 'grey@remote.example';
    const first = await send(sender, '127.0.0.4', sender);
    expect(lastReply(first, '451'), first.output).toMatch(
      /^451 4\.7\.1 Greylisted, please try again in 1 seconds/,
    );
    expect(queued(first)).toBeUndefined();
    // Retries are refused until the delay has passed, then one goes through.
    const passed = await until('a retry after the greylisting delay', async () => {
      const t = await send(sender, '127.0.0.4', sender);
      return queued(t) ? t : undefined;
    });
    expect(queued(passed)).toBeDefined();
    // Remembered: the next message of the triplet, from another host of the /24, passes at once.
    const again = await send(sender, '127.0.0.9', sender);
    expect(queued(again), again.output).toBeDefined();
  });

  it('answers 451 4.7.0 while the policy service is stopped, and the same session succeeds once it is back', async () => {
    await stopPolicy();
    const session = await smtpSession(port, '127.0.0.5');
    try {
      // The connect question went unanswered: the session goes on (greeting), MAIL asks again.
      expect(session.greeting).toMatch(/^220 /);
      expect(await session.say('EHLO client.example')).toMatch(/^250 /);
      expect(await session.say('MAIL FROM:<late@remote.example>')).toBe(
        '451 4.7.0 Policy service unavailable, try again later',
      );
      // Operators see it: questions left unanswered, by stage.
      const counted = await fx.metrics.registry.getSingleMetric('mta_intake_policy_questions_total')?.get();
      const unanswered = counted?.values.filter((v) => v.labels['result'] === 'unanswered') ?? [];
      expect(unanswered.map((v) => v.labels['stage'])).toContain('connect');
      await startPolicy();
      expect(await session.say('MAIL FROM:<late@remote.example>')).toMatch(/^250 /);
      // A new triplet: greylisted, then accepted in the same session once the delay is over.
      expect(await session.say('RCPT TO:<alice@local.example>')).toMatch(/^451 4\.7\.1 /);
      await until('the greylisting delay to pass in the session', async () => {
        const r = await session.say('RCPT TO:<alice@local.example>');
        return r.startsWith('250 ');
      });
      expect(await session.say('DATA')).toMatch(/^354 /);
      expect(await session.say('Subject: late\r\n\r\nstill here\r\n.')).toMatch(/^250 2\.0\.0 .*queued as /);
    } finally {
      session.close();
    }
  });

  it('answers 451 4.7.0 when the service answers too late, and ignores the late answer', async () => {
    await stopPolicy();
    let release = () => undefined as void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let asked = 0;
    const slow: DnsListResolver = {
      resolve4: async () => {
        asked++;
        await held;
        throw Object.assign(new Error('not listed'), { code: 'ENOTFOUND' });
      },
      resolveTxt: () => Promise.resolve([]),
    };
    await startPolicy(slow);
    try {
      const session = await smtpSession(port, '127.0.0.6');
      try {
        expect(session.greeting).toMatch(/^220 /);
        expect(asked).toBeGreaterThan(0);
        expect(await session.say('EHLO client.example')).toMatch(/^250 /);
        expect(await session.say('MAIL FROM:<slow@remote.example>')).toBe(
          '451 4.7.0 Policy service unavailable, try again later',
        );
        release();
        // The late answers arrive after the client gave up; the session is unharmed.
        expect(await session.say('NOOP')).toMatch(/^250 /);
      } finally {
        session.close();
      }
    } finally {
      release();
      await stopPolicy();
      await startPolicy();
    }
  });
});

describe('submission with the policy service: an account own limits', () => {
  let fx: IntakeFixture;
  let redis: Redis;
  let policy: RunningPolicyService;
  let port: number;

  beforeAll(async () => {
    fx = await intakeFixture();
    redis = createRedisConnection(TEST_REDIS_URL, 'client');
    await redisReady(redis);
    const env = { POLICY_TIMEOUT_MS: '2000' };
    const config = loadConfig({ ...env, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: fx.prefix });
    policy = await startPolicyService({ config, db: fx.db, redis });
    [port] = (await fx.start('submission', env)).ports as [number];
  });
  afterAll(async () => {
    await policy?.close();
    await fx?.close();
    redis?.disconnect();
  });

  it('takes effect without defaults: the limit-th message and recipient pass, the next get 450 4.7.1', async () => {
    // As the admin API stores them (PATCH /api/v1/accounts/:address {rateLimits}).
    await fx.db.account.update({
      where: { address: 'alice@local.example' },
      data: { rateLimits: { messagesPerHour: 2, recipientsPerHour: 3 } },
    });
    const out = await python(
      port,
      `
s = smtplib.SMTP('127.0.0.1', port)
s.starttls(context=ssl._create_unverified_context())
s.login('alice@local.example', 'correct horse battery staple')
msg = 'From: alice@local.example\\r\\nSubject: x\\r\\n\\r\\nhi\\r\\n'
print('first', s.sendmail('alice@local.example', ['a@remote.example', 'b@remote.example'], msg))
print('second', s.sendmail('alice@local.example', ['c@remote.example', 'd@remote.example'], msg))
try:
    s.sendmail('alice@local.example', ['e@remote.example'], msg)
except smtplib.SMTPSenderRefused as e:
    print('third', e.smtp_code, e.smtp_error.decode())
s.quit()
`,
    );
    expect(out).toContain('first {}');
    expect(out).toContain(
      "second {'d@remote.example': (450, b'4.7.1 Error: too many recipients per hour from alice@local.example, try again later')}",
    );
    expect(out).toContain(
      'third 450 4.7.1 Error: too many messages per hour from alice@local.example, try again later',
    );
    expect(await fx.db.message.count({ where: { authUser: 'alice@local.example' } })).toBe(2);
  });
});

describe('mx with greylisting switched on for one domain only (admin API, domains.greylisting)', () => {
  let fx: IntakeFixture;
  let redis: Redis;
  let policy: RunningPolicyService;
  let port: number;

  beforeAll(async () => {
    fx = await intakeFixture();
    redis = createRedisConnection(TEST_REDIS_URL, 'client');
    await redisReady(redis);
    // As PATCH /api/v1/domains/local.example {greylisting: true} stores it; GREYLISTING stays off.
    await fx.db.domain.update({ where: { name: 'local.example' }, data: { greylisting: true } });
    const env = { GREYLIST_DELAY_S: '300' };
    const config = loadConfig({ ...env, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: fx.prefix });
    policy = await startPolicyService({ config, db: fx.db, redis });
    [port] = (await fx.start('mx', env)).ports as [number];
  });
  afterAll(async () => {
    await policy?.close();
    await fx?.close();
    redis?.disconnect();
  });

  it('greylists mail for that domain and not for the others', async () => {
    const send = (to: string) =>
      swaks(port, ['--from', 'bob@remote.example', '--to', to], 'Subject: x\r\n\r\nhi');
    const greylisted = await send('alice@local.example');
    expect(lastReply(greylisted, '451'), greylisted.output).toMatch(/^451 4\.7\.1 Greylisted/);
    const other = await send('anyone@catchall.example');
    expect(lastReply(other, '250 2.0.0'), other.output).toMatch(/queued as/);
  });
});
