/**
 * The agents of one delivery process, built from the configuration: remote SMTP with MX lookup
 * behind the per-destination traffic shaping (connections and rate in Redis, messages per
 * session in the pool), the smart host (`RELAY_HOST`) behind the same shaping,
 * and the local agent (`LOCAL_DELIVERY`). `close()` drains every pooled session.
 */
import { readFileSync } from 'node:fs';
import type { LocalDeliveryTarget } from '@mta/config';
import type { AuthCredentials } from '@mta/smtp-client';
import { createDnsResolve, MxResolver, type DnsServer } from '@mta/dns';
import {
  DanePolicies,
  MtaStsPolicies,
  OutboundTlsPolicy,
  RedisPolicyStore,
  RedisTlsRptStore,
} from '@mta/tls-policy';
import type { Redis } from 'ioredis';
import type { DeliveryAgent, DeliveryRequest } from '../contract';
import { RedisDestinationLimiter } from '../limits/destination-limiter';
import { ConcurrencyLimitedAgent, defaultDestination } from '../limits/limited-agent';
import { RateLimitedAgent } from '../limits/rate-limited-agent';
import { RedisRateLimiter } from '../limits/rate-limiter';
import { mxSiteOf, type ShapingKeying } from '../limits/site';
import { DEFAULT_SHAPING, loadShapingOverrides, ShapingTable, type Shaping } from '../limits/shaping';
import type { SessionLimits } from '../remote/connection-pool';
import { createLocalDeliveryAgent, type MaildirSettings } from '../local/local-agent';
import { TlsReportIngestAgent } from '../local/tls-report-agent';
import type pg from 'pg';
import { RemoteDeliveryAgent } from '../remote/remote-agent';
import { parseRelayHost } from '../remote/route';
import type { DeliveryAgents } from './delivery-worker';

export interface AgentSettings {
  /** `MTA_HOSTNAME`: EHLO/LHLO name, and MX loop detection. */
  readonly hostname: string;
  /** `DNS_SERVERS`; empty: the system's. */
  readonly dnsServers: readonly DnsServer[];
  /** `DELIVERY_PORT`. */
  readonly port: number;
  /** `LOCAL_DELIVERY`. */
  readonly local: LocalDeliveryTarget;
  /** `MAILDIR_FILE_MODE`, `MAILDIR_DIR_MODE`, `MAILDIR_OWNER`, for a `maildir:` target. */
  readonly maildir?: MaildirSettings;
  /** `RELAY_HOST`, e.g. `[smtp.provider.example]:587`. */
  readonly relayHost?: string;
  /**
   * `RELAY_HOST_USERNAME` with `RELAY_HOST_PASSWORD` or `RELAY_HOST_PASSWORD_FILE` (read here,
   * once). With them, the smart host must offer STARTTLS (RFC 4954 §4).
   */
  readonly relayAuth?: RelayAuthSettings;
  /**
   * `DELIVERY_CONCURRENCY`: with it, one remote destination takes at most `destinationShare` of
   * the process's deliveries (limits/limited-agent.ts), so a stalled receiver leaves room for others.
   */
  readonly concurrency?: number;
  /** Fail-fast Redis client for the per-destination limit, and its key prefix. */
  readonly redis: Redis;
  readonly prefix: string;
  /**
   * Traffic shaping defaults per destination (`DELIVERY_MAX_CONNECTIONS`,
   * `DELIVERY_MAX_MESSAGES_PER_CONNECTION`, `DELIVERY_MAX_MESSAGE_RATE`; limits/shaping.ts).
   */
  readonly shaping?: Partial<Shaping>;
  /** `DELIVERY_SHAPING_BY`: the recipient domain (default), or the MX host set (limits/site.ts). */
  readonly shapingBy?: ShapingKeying;
  /**
   * Where the per-domain overrides are read (`delivery_shaping`), and how often
   * (`DELIVERY_SHAPING_REFRESH_MS`). Absent: the defaults apply to every destination.
   */
  readonly shapingOverrides?: { readonly pool: Pick<pg.Pool, 'query'>; readonly refreshMs: number };
  /** `MTA_STS`: honour the MTA-STS policies of recipient domains (default true). */
  readonly mtaSts?: boolean;
  /** `DANE_RESOLVER`: the validating resolver DANE believes (unset: no DANE). */
  readonly daneResolver?: DnsServer;
  /** `MTA_STS_FETCH_TIMEOUT_MS`: the whole HTTPS fetch of one policy. */
  readonly mtaStsFetchTimeoutMs?: number;
  /** `TLSRPT_RECEIVE_ADDRESS`: TLS-RPT reports to it are stored (with `pool`), not filed. */
  readonly tlsReports?: { readonly address: string; readonly pool: Pick<pg.Pool, 'query'> };
}

export interface RelayAuthSettings {
  readonly username: string;
  readonly password?: string;
  readonly passwordFile?: string;
}

export interface ClosableAgents extends DeliveryAgents {
  /** The shaping in force (defaults and overrides); `refresh()` reloads the overrides now. */
  readonly shaping: ShapingTable;
  close(): Promise<void>;
}

export function createDeliveryAgents(settings: AgentSettings): ClosableAgents {
  const shaping = shapingTable(settings);
  const limiter = new RedisDestinationLimiter({
    redis: settings.redis,
    prefix: settings.prefix,
    limit: shaping.defaults.maxConnections,
    limitFor: (destination) => shaping.shapingOf(destination).maxConnections,
  });
  const rates = new RedisRateLimiter(settings.redis, settings.prefix);
  // One resolver (and its cache) for the agent and, under `mx` keying, the shaping's site lookup.
  const resolver = new MxResolver({ servers: settings.dnsServers, localHostnames: [settings.hostname] });
  const remote = shaped(
    new RemoteDeliveryAgent({
      heloName: settings.hostname,
      resolver,
      port: settings.port,
      tlsPolicy: outboundTlsPolicy(settings),
      // The key the slot was taken under: the domain, or the site.
      sessionLimits: (request) =>
        sessionLimits(shaping.shapingOf(request.slot?.destination ?? defaultDestination(request))),
    }),
    { limiter, rates, shaping, processConcurrency: settings.concurrency },
    settings.shapingBy === 'mx' ? mxSiteOf(resolver) : undefined,
  );
  const smartHost = settings.relayHost
    ? smartHostAgent(settings, settings.relayHost, { limiter, rates, shaping })
    : undefined;
  const mailbox = createLocalDeliveryAgent(settings.local, { heloName: settings.hostname }, settings.maildir);
  const { tlsReports } = settings;
  const local = tlsReports ? new TlsReportIngestAgent(mailbox, tlsReports.pool, tlsReports.address) : mailbox;
  return {
    remote,
    local,
    smartHost,
    shaping,
    async close() {
      shaping.stop();
      await Promise.all([remote.close(), local.close(), smartHost?.close()]);
    },
  };
}

interface Shapers {
  readonly limiter: RedisDestinationLimiter;
  readonly rates: RedisRateLimiter;
  readonly shaping: ShapingTable;
  /** The process's concurrency, for the remote agent only: a smart host is the one destination. */
  readonly processConcurrency?: number;
}

/** Connections (outside: a slot first), then the rate, then the agent. */
function shaped(
  agent: DeliveryAgent,
  { limiter, rates, shaping, processConcurrency }: Shapers,
  destinationOf?: (request: DeliveryRequest) => string | Promise<string>,
): DeliveryAgent {
  const rated = new RateLimitedAgent(agent, { limiter: rates, shaping, destinationOf });
  return new ConcurrencyLimitedAgent(rated, { limiter, destinationOf, processConcurrency });
}

function smartHostAgent(settings: AgentSettings, relayHost: string, shapers: Shapers): DeliveryAgent {
  const relay = parseRelayHost(relayHost);
  if (typeof relay === 'string') throw new Error(`RELAY_HOST: ${relay}`);
  const auth = settings.relayAuth ? relayCredentials(settings.relayAuth) : undefined;
  const destination = `relay:${relayHost}`;
  const agent = new RemoteDeliveryAgent({
    heloName: settings.hostname,
    // RFC 4954 §4: credentials only inside TLS. `required`: no STARTTLS, or a failed
    // handshake, defers the mail (4.7.4 / 4.7.5) instead of sending them in clear text.
    // The certificate is not verified (Postfix's `encrypt` level).
    relay: auth ? { ...relay, auth, tls: 'required' } : relay,
    sessionLimits: () => sessionLimits(shapers.shaping.shapingOf(destination)),
  });
  return shaped(agent, shapers, () => destination);
}

/** The defaults of the configuration, and the overrides of `delivery_shaping` reloaded in the background. */
function shapingTable(settings: AgentSettings): ShapingTable {
  const defaults = { ...DEFAULT_SHAPING, ...settings.shaping };
  const source = settings.shapingOverrides;
  const table = new ShapingTable(defaults, source ? () => loadShapingOverrides(source.pool) : undefined);
  if (source) void table.start(source.refreshMs);
  return table;
}

/** As many idle sessions per host as sessions may run to the destination: none given back is wasted. */
function sessionLimits(shaping: Shaping): SessionLimits {
  return { maxMessages: shaping.maxMessagesPerConnection, maxIdlePerKey: shaping.maxConnections };
}

/**
 * MTA-STS with its policies cached in Redis (shared by every delivery process), DANE when a
 * validating resolver is named, and the TLS-RPT counts of both.
 */
function outboundTlsPolicy(settings: AgentSettings): OutboundTlsPolicy | undefined {
  const mtaSts =
    settings.mtaSts === false
      ? undefined
      : new MtaStsPolicies({
          resolve: createDnsResolve({ servers: settings.dnsServers }),
          store: new RedisPolicyStore(settings.redis, settings.prefix),
          fetchTimeoutMs: settings.mtaStsFetchTimeoutMs,
        });
  const dane = settings.daneResolver ? new DanePolicies({ resolver: settings.daneResolver }) : undefined;
  if (!mtaSts && !dane) return undefined;
  // TLS-RPT (RFC 8460): each session under a policy is counted for the daily report.
  return new OutboundTlsPolicy({
    mtaSts,
    dane,
    recorder: new RedisTlsRptStore(settings.redis, settings.prefix),
  });
}

/** The smart host credentials; a password file is read now (one trailing newline dropped). */
export function relayCredentials(s: RelayAuthSettings): AuthCredentials {
  if (s.password !== undefined) return { username: s.username, password: s.password };
  if (s.passwordFile === undefined) throw new Error('RELAY_HOST_USERNAME: needs a password');
  let text: string;
  try {
    text = readFileSync(s.passwordFile, 'utf8');
  } catch (e) {
    // The path and the reason, never any content.
    const code = e instanceof Error && 'code' in e ? String(e.code) : 'error';
    throw new Error(`RELAY_HOST_PASSWORD_FILE: cannot read ${s.passwordFile} (${code})`);
  }
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new Error(`RELAY_HOST_PASSWORD_FILE: ${s.passwordFile} is empty`);
  return { username: s.username, password };
}
