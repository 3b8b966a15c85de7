import { createRedisConnection, redisReady } from '@mta/queue';
import { createTestRedis } from '@mta/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  answerQuestion,
  type AccountLimitOverrides,
  type CheckDependencies,
  type PolicyQuestion,
} from './checks';
import type { DnsListResolver } from './dns-lists';
import { RedisPolicyStore } from './redis-stores';
import { policySettings, type PolicyConfig, type PolicySettings } from './settings';

const CONFIG: PolicyConfig = {
  DNSBL_ZONES: [],
  DNSWL_ZONES: [],
  GREYLISTING: false,
  GREYLIST_DELAY_S: 300,
  GREYLIST_TTL_DAYS: 36,
  MX_RATE_CONNECTIONS_PER_MIN: 0,
  MX_RATE_MESSAGES_PER_MIN: 0,
  MX_RATE_RECIPIENTS_PER_MIN: 0,
  SUBMISSION_MESSAGES_PER_HOUR: 0,
  SUBMISSION_MESSAGES_PER_DAY: 0,
  SUBMISSION_RECIPIENTS_PER_HOUR: 0,
  SUBMISSION_RECIPIENTS_PER_DAY: 0,
};

/** No DNS list lists anyone here (tests of the lists are in dns-lists.int.spec.ts). */
const nobodyListed: DnsListResolver = {
  resolve4: () => Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })),
  resolveTxt: () => Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })),
};

describe('policy checks on a real Redis', () => {
  let redis: Redis;
  let cleanup: () => Promise<void>;
  let prefix: string;
  let clock = 1_000_000;
  const accounts = new Map<string, AccountLimitOverrides>();

  beforeAll(async () => {
    const test = await createTestRedis();
    ({ cleanup, prefix } = test);
    redis = createRedisConnection(test.url, 'client');
    await redisReady(redis);
  });
  afterAll(async () => {
    redis?.disconnect();
    await cleanup?.();
  });

  /** A replica of the policy service: its own store object, the same Redis. */
  function replica(settings: PolicySettings) {
    const store = new RedisPolicyStore(redis, prefix);
    const deps: CheckDependencies = {
      resolver: nobodyListed,
      greylist: store,
      counter: store,
      accountLimits: (login) => Promise.resolve(accounts.get(login) ?? null),
      now: () => clock,
    };
    return (q: PolicyQuestion) => answerQuestion(q, settings, deps);
  }
  const mx = (
    stage: PolicyQuestion['stage'],
    clientAddress: string,
    extra: Partial<PolicyQuestion> = {},
  ) => ({
    stage,
    service: 'mx' as const,
    clientAddress,
    ...extra,
  });
  const codes = (answers: { refusal: { code: number; enhanced: string } | null }[]) =>
    answers.map((a) => (a.refusal ? `${a.refusal.code} ${a.refusal.enhanced}` : 'ok'));

  it('connection rate: the limit-th connection of a minute passes, the next gets 421 4.7.0', async () => {
    const ask = replica(policySettings({ ...CONFIG, MX_RATE_CONNECTIONS_PER_MIN: 3 }));
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await ask(mx('connect', '192.0.2.1')));
    expect(codes(answers)).toEqual(['ok', 'ok', 'ok', '421 4.7.0']);
    expect(answers[3]?.refusal?.text).toBe('Error: too many connections from 192.0.2.1');
    // Another client has its own count.
    expect(codes([await ask(mx('connect', '192.0.2.2'))])).toEqual(['ok']);
  });

  it('message and recipient rates: 450 4.7.1 just past the limit; IPv6 counted by /64', async () => {
    const ask = replica(
      policySettings({ ...CONFIG, MX_RATE_MESSAGES_PER_MIN: 2, MX_RATE_RECIPIENTS_PER_MIN: 1 }),
    );
    const mail = [];
    for (const a of ['2001:db8::1', '2001:db8::2', '2001:db8::3']) mail.push(await ask(mx('mail', a)));
    expect(codes(mail)).toEqual(['ok', 'ok', '450 4.7.1']);
    expect(codes([await ask(mx('mail', '2001:db8:0:1::1'))])).toEqual(['ok']);
    const rcpt = [await ask(mx('rcpt', '192.0.2.9')), await ask(mx('rcpt', '192.0.2.9'))];
    expect(codes(rcpt)).toEqual(['ok', '450 4.7.1']);
    expect(rcpt[1]?.refusal?.text).toBe('Error: too many recipients from 192.0.2.9');
  });

  it('counters are shared by two replicas through the same Redis', async () => {
    const settings = policySettings({ ...CONFIG, MX_RATE_MESSAGES_PER_MIN: 2 });
    const [a, b] = [replica(settings), replica(settings)];
    expect(codes([await a(mx('mail', '198.51.100.7')), await b(mx('mail', '198.51.100.7'))])).toEqual([
      'ok',
      'ok',
    ]);
    expect(codes([await a(mx('mail', '198.51.100.7'))])).toEqual(['450 4.7.1']);
    expect(codes([await b(mx('mail', '198.51.100.7'))])).toEqual(['450 4.7.1']);
  });

  it('greylisting: 451 4.7.1 until the delay has passed (boundary), then passes and is remembered', async () => {
    const ask = replica(policySettings({ ...CONFIG, GREYLISTING: true, GREYLIST_DELAY_S: 300 }));
    const q = mx('rcpt', '203.0.113.5', { sender: 'bob@remote.example', recipient: 'alice@local.example' });
    const first = await ask(q);
    expect(first.refusal).toEqual({
      code: 451,
      enhanced: '4.7.1',
      text: 'Greylisted, please try again in 300 seconds',
    });
    clock += 300_000 - 1; // one millisecond short of the delay
    expect(codes([await ask(q)])).toEqual(['451 4.7.1']);
    clock += 1; // exactly the delay
    expect(codes([await ask(q)])).toEqual(['ok']);
    // Remembered: another host of the same /24 passes at once, days later.
    clock += 20 * 86_400_000;
    expect(codes([await ask({ ...q, clientAddress: '203.0.113.77' })])).toEqual(['ok']);
    // A new triplet (other recipient, other network) is greylisted again.
    expect(codes([await ask({ ...q, recipient: 'carol@local.example' })])).toEqual(['451 4.7.1']);
    expect(codes([await ask({ ...q, clientAddress: '203.0.114.5' })])).toEqual(['451 4.7.1']);
    // Allow-listed and authenticated clients are not greylisted.
    const other = { ...q, sender: 'new@remote.example' };
    expect(
      codes([await ask({ ...other, allowListed: true }), await ask({ ...other, authUser: 'x@y' })]),
    ).toEqual(['ok', 'ok']);
  });

  it('greylisting follows the question (the recipient domain own switch) over the setting', async () => {
    const q = mx('rcpt', '203.0.113.150', { sender: 'dom@remote.example', recipient: 'x@own.example' });
    const off = replica(policySettings({ ...CONFIG, GREYLISTING: false }));
    expect(codes([await off({ ...q, greylist: true })])).toEqual(['451 4.7.1']);
    const on = replica(policySettings({ ...CONFIG, GREYLISTING: true }));
    expect(codes([await on({ ...q, recipient: 'y@own.example', greylist: false })])).toEqual(['ok']);
  });

  it('greylisting forgets a passed triplet after its time to live', async () => {
    const ask = replica(
      policySettings({ ...CONFIG, GREYLISTING: true, GREYLIST_DELAY_S: 0, GREYLIST_TTL_DAYS: 1 }),
    );
    const q = mx('rcpt', '203.0.113.99', { sender: 'ttl@remote.example', recipient: 'alice@local.example' });
    // Delay 0: the first attempt is remembered and passes at once.
    expect(codes([await ask(q)])).toEqual(['ok']);
    const key = (await redis.keys(`${prefix}:policy:grey:*`)).length;
    expect(key).toBeGreaterThan(0);
    const ttls = await Promise.all((await redis.keys(`${prefix}:policy:grey:*`)).map((k) => redis.pttl(k)));
    expect(Math.max(...ttls)).toBeGreaterThan(86_400_000 - 60_000);
  });

  it('submission: per-account limits per hour and day, defaults replaced by the account own', async () => {
    const ask = replica(
      policySettings({ ...CONFIG, SUBMISSION_MESSAGES_PER_HOUR: 2, SUBMISSION_RECIPIENTS_PER_DAY: 3 }),
    );
    const sub = (stage: 'mail' | 'rcpt', authUser: string) =>
      ask({ stage, service: 'submission', clientAddress: '192.0.2.50', authUser });
    const mails = [];
    for (let i = 0; i < 3; i++) mails.push(await sub('mail', 'alice@local.example'));
    expect(codes(mails)).toEqual(['ok', 'ok', '450 4.7.1']);
    expect(mails[2]?.refusal?.text).toBe(
      'Error: too many messages per hour from alice@local.example, try again later',
    );
    const rcpts = [];
    for (let i = 0; i < 4; i++) rcpts.push(await sub('rcpt', 'alice@local.example'));
    expect(codes(rcpts)).toEqual(['ok', 'ok', 'ok', '450 4.7.1']);
    expect(rcpts[3]?.refusal?.text).toContain('recipients per day');
    // An account's own limit replaces the default: 1 message an hour, and 0 recipients means no limit.
    accounts.set('bob@local.example', { messagesPerHour: 1, recipientsPerDay: 0 });
    expect(codes([await sub('mail', 'bob@local.example'), await sub('mail', 'bob@local.example')])).toEqual([
      'ok',
      '450 4.7.1',
    ]);
    const many = [];
    for (let i = 0; i < 5; i++) many.push(await sub('rcpt', 'bob@local.example'));
    expect(codes(many)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
  });

  it('a refused attempt does not use up the allowance of the other window', async () => {
    const ask = replica(
      policySettings({ ...CONFIG, SUBMISSION_MESSAGES_PER_HOUR: 1, SUBMISSION_MESSAGES_PER_DAY: 3 }),
    );
    const sub = () =>
      ask({ stage: 'mail', service: 'submission', clientAddress: '192.0.2.51', authUser: 'carol@x' });
    expect(codes([await sub(), await sub(), await sub()])).toEqual(['ok', '450 4.7.1', '450 4.7.1']);
    const day = await redis.get(`${prefix}:policy:rate:sub:messages:day:carol@x`);
    expect(day).toBe('1');
  });
});
