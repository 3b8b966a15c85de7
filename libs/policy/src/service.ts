/** The policy service in one call: its stores, DNS resolver and worker (feature module and tests). */
import type { PrismaClient } from '@mta/db';
import { createRedisConnection, settlesWithin } from '@mta/queue';
import type { Redis } from 'ioredis';
import { PrismaAccountLimits } from './account-limits';
import { dnsListResolver, type DnsListResolver } from './dns-lists';
import { RedisPolicyStore } from './redis-stores';
import { policySettings, type PolicyConfig } from './settings';
import { startPolicyWorker } from './worker';

export interface PolicyServiceOptions {
  config: PolicyConfig & {
    REDIS_URL: string;
    REDIS_PREFIX: string;
    POLICY_TIMEOUT_MS: number;
    DNS_SERVERS: readonly { host: string; port: number }[];
  };
  db: PrismaClient;
  /** A normal (fail-fast) connection: counters, greylist, publishing answers. */
  redis: Redis;
  onError?: (error: Error) => void;
  /** Replaces the DNS resolver (tests); the clock of the checks (tests of the greylist delay). */
  resolver?: DnsListResolver;
  now?: () => number;
}

export interface RunningPolicyService {
  close(): Promise<void>;
}

export async function startPolicyService(options: PolicyServiceOptions): Promise<RunningPolicyService> {
  const { config, redis } = options;
  const store = new RedisPolicyStore(redis, config.REDIS_PREFIX);
  const accounts = new PrismaAccountLimits(options.db);
  const connection = createRedisConnection(config.REDIS_URL, 'worker', options.onError);
  const worker = startPolicyWorker({
    connection,
    publisher: redis,
    prefix: config.REDIS_PREFIX,
    settings: policySettings(config),
    timeoutMs: config.POLICY_TIMEOUT_MS,
    checks: {
      // A list that answers slowly counts as not listed before the asker gives up.
      // Two tries of a quarter of the deadline each: a list that does not answer counts as
      // not listed before the asker gives up.
      resolver:
        options.resolver ?? dnsListResolver(config.DNS_SERVERS, Math.floor(config.POLICY_TIMEOUT_MS / 4)),
      greylist: store,
      counter: store,
      accountLimits: (login) => accounts.get(login),
      now: options.now ?? Date.now,
    },
    onError: options.onError,
  });
  // Ready within moments when Redis answers; with Redis down the service starts anyway and the
  // worker connects when Redis is back (readiness and the outage line say why it waits).
  await settlesWithin(worker.waitUntilReady(), 5_000);
  return {
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}
