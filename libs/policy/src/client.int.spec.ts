import { JobProducer, QueueName, createRedisConnection, redisReady } from '@mta/queue';
import { createTestRedis, until } from '@mta/testing';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY_UNAVAILABLE } from './answers';
import { PolicyClient } from './client';
import { PolicyGate } from './gate';
import { RedisPolicyStore } from './redis-stores';
import { policySettings, type PolicyConfig } from './settings';
import { startPolicyWorker } from './worker';

const CONFIG: PolicyConfig = {
  DNSBL_ZONES: [],
  DNSWL_ZONES: [],
  GREYLISTING: false,
  GREYLIST_DELAY_S: 300,
  GREYLIST_TTL_DAYS: 36,
  MX_RATE_CONNECTIONS_PER_MIN: 0,
  MX_RATE_MESSAGES_PER_MIN: 3,
  MX_RATE_RECIPIENTS_PER_MIN: 0,
  SUBMISSION_MESSAGES_PER_HOUR: 0,
  SUBMISSION_MESSAGES_PER_DAY: 0,
  SUBMISSION_RECIPIENTS_PER_HOUR: 0,
  SUBMISSION_RECIPIENTS_PER_DAY: 0,
};
const TIMEOUT_MS = 500;
const settings = policySettings(CONFIG);

describe('policy questions over the policy queue (client, worker, real Redis)', () => {
  let url: string;
  let prefix: string;
  let cleanup: () => Promise<void>;
  let redis: Redis;
  let producer: JobProducer;
  const closers: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    ({ url, prefix, cleanup } = await createTestRedis());
    redis = createRedisConnection(url, 'client');
    await redisReady(redis);
    producer = new JobProducer(redis, prefix);
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await producer?.close();
    redis?.disconnect();
    await cleanup?.();
  });

  async function client(): Promise<PolicyClient> {
    const subscriber = createRedisConnection(url, 'worker');
    const c = new PolicyClient(producer, subscriber, prefix, TIMEOUT_MS);
    await c.start();
    closers.push(() => c.close());
    return c;
  }

  async function worker(): Promise<Worker> {
    const connection = createRedisConnection(url, 'worker');
    const store = new RedisPolicyStore(redis, prefix);
    const w = startPolicyWorker({
      connection,
      publisher: redis,
      prefix,
      settings,
      timeoutMs: TIMEOUT_MS,
      checks: {
        resolver: { resolve4: () => Promise.resolve([]), resolveTxt: () => Promise.resolve([]) },
        greylist: store,
        counter: store,
        accountLimits: () => Promise.resolve(null),
        now: Date.now,
      },
    });
    await w.waitUntilReady();
    closers.push(async () => {
      await w.close();
      connection.disconnect();
    });
    return w;
  }

  const session = (id: string, remoteAddress: string) => ({ id, remoteAddress, helo: null, user: null });

  it('two SMTP replicas and two policy replicas share one count through Redis', async () => {
    await worker();
    await worker();
    const gates = [
      new PolicyGate(await client(), settings, 'mx'),
      new PolicyGate(await client(), settings, 'mx'),
    ];
    const answers = [];
    for (let i = 0; i < 4; i++) {
      const gate = gates[i % 2] as PolicyGate;
      answers.push(await gate.mail(session(`s${i}`, '192.0.2.10'), 'bob@remote.example'));
    }
    expect(answers.map((a) => (a ? `${a.code} ${a.enhanced}` : 'ok'))).toEqual([
      'ok',
      'ok',
      'ok',
      '450 4.7.1',
    ]);
  });

  it('without a policy service: no answer within the deadline is 451 4.7.0, and stale questions are not counted later', async () => {
    for (const close of closers.splice(0).reverse()) await close();
    const c = await client();
    const gate = new PolicyGate(c, settings, 'mx');
    const refusals = await Promise.all(
      [1, 2, 3, 4].map((i) => gate.mail(session(`t${i}`, '192.0.2.20'), 'bob@remote.example')),
    );
    expect(refusals).toEqual([
      POLICY_UNAVAILABLE,
      POLICY_UNAVAILABLE,
      POLICY_UNAVAILABLE,
      POLICY_UNAVAILABLE,
    ]);
    expect(c.waiting).toBe(0);
    // The service comes back and works through the backlog: none of it counts, as the clients
    // were told 451 and will try again.
    await worker();
    const queue = producer.queue(QueueName.Policy);
    await until(
      'the backlog of questions to be worked off',
      async () => (await queue.getWaitingCount()) === 0,
    );
    await until('the last question to finish', async () => (await queue.getActiveCount()) === 0);
    expect(await redis.get(`${prefix}:policy:rate:mx:messages:192.0.2.20`)).toBeNull();
    const answers = [];
    for (let i = 0; i < 4; i++)
      answers.push(await gate.mail(session(`u${i}`, '192.0.2.20'), 'bob@remote.example'));
    expect(answers.map((a) => (a ? a.code : 'ok'))).toEqual(['ok', 'ok', 'ok', 450]);
  });
});
