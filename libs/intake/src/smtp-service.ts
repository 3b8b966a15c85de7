import type { AppConfig } from '@mta/config';
import { newQueueId, type PrismaClient } from '@mta/db';
import { srsFromConfig } from '@mta/mail';
import type pg from 'pg';
import type { Logger, Metrics } from '@mta/observability';
import { settlesWithin, type JobProducer } from '@mta/queue';
import { SmtpServer, type SmtpHandler } from '@mta/smtp-server';
import {
  createInboundResolver,
  PolicyClient,
  PolicyGate,
  PrismaAccountLimits,
  PrismaDomainGreylisting,
  policySettings,
  type SealingKey,
} from '@mta/policy';
import type { Redis } from 'ioredis';
import { PrismaAccountDirectory } from './accounts';
import { AuthThrottle, type AuthThrottleOptions } from './auth-throttle';
import { ClientNames } from './client-name';
import { PrismaDirectory } from './directory';
import { PrismaDkimKeyStore, type DkimKeyStore } from './dkim-keys';
import { FlowControl, type FlowControlOptions } from './flow-control';
import { Forwarding, passedDmarc } from './forwarding';
import type { IntakeDependencies } from './intake-handler';
import { IntakeMetrics } from './intake-metrics';
import { MessageWriter } from './message-writer';
import { InboundChecks } from './inbound-checks';
import { MxHandler, type PolicyRefusal } from './mx-handler';
import { RecipientResolver } from './recipient-resolver';
import { SubmissionHandler } from './submission-handler';
import { loadTlsMaterial } from './tls-material';
import { TransactionLog } from './transaction-log';

/** How long a service waits at start for Redis before it starts without it. */
const REDIS_START_WAIT_MS = 5_000;

/** What the Nest modules of mx and submission hand over: the process's shared resources. */
export interface SmtpServiceContext {
  config: AppConfig;
  db: PrismaClient;
  /** A plain pg pool on the same database, for the one-statement message insert. */
  pool: pg.Pool;
  producer: JobProducer;
  redis: Redis;
  logger: Logger;
  metrics: Metrics;
  /** Overrides of the password-guessing throttle (tests use short delays). */
  authThrottle?: Omit<AuthThrottleOptions, 'prefix'>;
  /** Overrides of flow control's readings (tests stand in for a busy process). */
  flowControl?: Pick<FlowControlOptions, 'cpuLoad'>;
}

/** A running SMTP service: its server and the addresses it listens on. */
export interface RunningSmtpService {
  server: SmtpServer;
  addresses: string[];
  /**
   * SIGTERM: 421 4.3.2 to new sessions for `SMTP_DRAIN_MS` while open transactions finish
   * (`SmtpServer.drain`), then close as `close` does.
   */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The policy client of a service. It asks only at the stages where a check is configured (mx
 * without DNS lists, greylisting or rate limits asks nothing), but it is always there: a domain
 * (greylisting) or an account (rate limits) may get settings of its own through the API.
 */
async function policyGate(service: 'mx' | 'submission', ctx: SmtpServiceContext) {
  const settings = policySettings(ctx.config);
  const subscriber = ctx.redis.duplicate({
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    connectionName: 'mta-policy-answers',
  });
  subscriber.on('error', () => undefined); // reconnects on its own; readiness reports Redis
  const client = new PolicyClient(
    ctx.producer,
    subscriber,
    ctx.config.REDIS_PREFIX,
    ctx.config.POLICY_TIMEOUT_MS,
  );
  // Subscribed within moments when Redis answers; with Redis down the service starts anyway
  // (its questions get 451 until Redis is back; readiness and the outage line say why).
  await settlesWithin(client.start(), REDIS_START_WAIT_MS);
  const accounts = new PrismaAccountLimits(ctx.db);
  const domains = new PrismaDomainGreylisting(ctx.db);
  const metrics = IntakeMetrics.for(ctx.metrics.registry);
  const gate = new PolicyGate(
    client,
    settings,
    service,
    {
      ownLimits: (login) => accounts.hasOwn(login),
      domainGreylisting: (domain) => domains.get(domain),
    },
    (stage, result, seconds) => {
      metrics.policyQuestions.inc({ service, stage, result });
      metrics.policySeconds.observe({ service }, seconds);
    },
  );
  return { client, gate };
}

function dependencies(service: 'mx' | 'submission', ctx: SmtpServiceContext): IntakeDependencies {
  const logger = ctx.logger.child({ component: service });
  const metrics = IntakeMetrics.for(ctx.metrics.registry);
  const batches = metrics.batchMessages.labels(service);
  const limit = metrics.flowLimit.labels(service);
  limit.set(Infinity);
  const srs = srsFromConfig(ctx.config);
  return {
    resolver: new RecipientResolver(new PrismaDirectory(ctx.db, ctx.pool), {
      // A bare <postmaster> means the postmaster of our own host name (RFC 5321 §4.1.1.3).
      postmasterDomain: ctx.config.MTA_HOSTNAME.toLowerCase(),
      maxAliasDepth: ctx.config.ALIAS_MAX_DEPTH,
      maxRecipients: ctx.config.MAX_RECIPIENTS,
      srs,
    }),
    // Mail that failed our own DMARC check is never forwarded (forwarding.ts).
    forwarding: new Forwarding(srs, newQueueId, logger, passedDmarc),
    writer: new MessageWriter(ctx.pool, ctx.producer, logger, { onBatch: (n) => batches.observe(n) }),
    flow: new FlowControl({
      targetMs: ctx.config.INTAKE_FLOW_TARGET_MS,
      maxDelayMs: ctx.config.INTAKE_FLOW_MAX_DELAY_MS,
      onLimit: (n) => limit.set(n),
      onDelayed: (outcome, ms) => metrics.flowDelaySeconds.labels(service, outcome).observe(ms / 1000),
      ...ctx.flowControl,
    }),
    log: new TransactionLog(service, logger, metrics),
    logger,
    // FCrDNS of each client (client-name.ts): one try of 1 s per query, 2 s in all from connect.
    clientNames: new ClientNames({
      resolve: createInboundResolver({ servers: ctx.config.DNS_SERVERS, timeoutMs: 1000, tries: 1 }),
      deadlineMs: 2000,
    }),
  };
}

async function server(
  service: 'mx' | 'submission',
  ctx: SmtpServiceContext,
  handler: SmtpHandler,
  submission: boolean,
) {
  const { config } = ctx;
  const tls = await loadTlsMaterial(
    { certFile: config.TLS_CERT_FILE, keyFile: config.TLS_KEY_FILE },
    config.MTA_HOSTNAME,
    ctx.logger,
  );
  return new SmtpServer({
    hostname: config.MTA_HOSTNAME,
    handler,
    tls: { key: tls.key, cert: tls.cert },
    // Port 25 takes no passwords (DESIGN.md); submission only after TLS (RFC 8314 §3.3).
    authMechanisms: submission ? ['PLAIN', 'LOGIN'] : [],
    requireAuth: submission,
    maxMessageSize: config.MESSAGE_SIZE_LIMIT,
    // RFC 8689: offered over TLS; intake stores the flag and delivery honours it (MTA-STS or
    // DANE validates each next hop, which must offer REQUIRETLS too, or the mail bounces 5.7.30).
    extensions: { requireTls: true },
    // RFC 5321 §4.5.3.1.6 caps a text line at 1000 octets, but §4.5.3.1 asks receivers to
    // impose no such limits where they can: the MX takes mail from anyone, and refusing a
    // sender's long line costs our user the message (Postfix's smtpd takes it too). Submission
    // keeps the limit: our own users' clients get a clear 500 5.5.2 instead of mail that a
    // stricter receiver would refuse later. The header block stays bounded (1 MiB).
    maxDataLineLength: submission ? 1000 : 0,
    maxRecipients: config.MAX_RECIPIENTS,
    // Bare LF: refused or stored as CRLF (smtp-protocol content-rules.ts); same for DATA and BDAT.
    bareNewline: config.SMTP_BARE_NEWLINE,
    idleTimeout: config.SMTP_COMMAND_TIMEOUT_MS,
    dataTimeout: config.SMTP_DATA_TIMEOUT_MS,
    minDataRate: config.SMTP_MIN_DATA_RATE,
    dataPhaseTimeout: config.SMTP_DATA_PHASE_TIMEOUT_MS,
    maxConnectionsPerIp: config.SMTP_MAX_CONNECTIONS_PER_IP,
    onError: (error, session) =>
      ctx.logger.warn(
        {
          component: service,
          session: session?.id,
          err: error instanceof Error ? error.message : String(error),
        },
        'smtp session error',
      ),
  });
}

async function listen(
  smtp: SmtpServer,
  listeners: { name: string; host: string; port: number; implicitTls?: boolean }[],
  config: AppConfig,
  writer: MessageWriter,
  policy: PolicyClient | undefined,
): Promise<RunningSmtpService> {
  const addresses: string[] = [];
  for (const l of listeners) {
    const bound = await smtp.listen({
      name: l.name,
      host: l.host,
      port: l.port,
      implicitTls: l.implicitTls,
      proxyProtocol: config.PROXY_PROTOCOL,
    });
    addresses.push(
      bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`,
    );
  }
  // The sessions end first, then the `accepted` jobs of the last messages go out.
  const close = async () => {
    await smtp.close();
    await writer.drain();
    policy?.close();
  };
  const drain = async () => {
    await smtp.drain(config.SMTP_DRAIN_MS);
    await writer.drain();
    policy?.close();
  };
  return { server: smtp, addresses, drain, close };
}

/** Port 25: the MX for our domains (MX_LISTEN). */
export async function startMx(ctx: SmtpServiceContext): Promise<RunningSmtpService> {
  const policy = await policyGate('mx', ctx);
  const deps = { ...dependencies('mx', ctx), policy: policy.gate };
  const { config } = ctx;
  if (!config.SRS_SECRET)
    deps.logger.warn('SRS_SECRET unset: mail forwarded by aliases to outside addresses keeps its sender');
  const checks = new InboundChecks({
    enabled: config.POLICY_INBOUND_CHECKS,
    authservId: config.MTA_HOSTNAME,
    trustedSealers: config.ARC_TRUSTED_SEALERS,
    dnsServers: config.DNS_SERVERS,
    dnsTimeoutMs: config.POLICY_DNS_TIMEOUT_MS,
    sealingKey: arcSealingKey(new PrismaDkimKeyStore(ctx.db), config.MTA_HOSTNAME),
    onSealError: (error) => deps.logger.warn({ error }, 'message relayed without an ARC seal'),
    onDecision: (dmarc, action) =>
      IntakeMetrics.for(ctx.metrics.registry).inboundDecisions.inc({ dmarc, action }),
  });
  const handler = new MxHandler(
    deps,
    {
      hostname: config.MTA_HOSTNAME,
      maxReceived: config.MAX_RECEIVED_HEADERS,
      maxRecipients: config.MAX_RECIPIENTS,
    },
    checks,
    (refusal) => recordRefusal(ctx.pool, refusal),
  );
  const smtp = await server('mx', ctx, handler, false);
  const listeners = [{ name: 'mx', ...ctx.config.MX_LISTEN }];
  return listen(smtp, listeners, ctx.config, deps.writer, policy.client);
}

/** Ports 587 (STARTTLS, SUBMISSION_LISTEN) and 465 (implicit TLS, SUBMISSIONS_LISTEN). */
export async function startSubmission(ctx: SmtpServiceContext): Promise<RunningSmtpService> {
  const policy = await policyGate('submission', ctx);
  const deps = { ...dependencies('submission', ctx), policy: policy.gate };
  const handler = new SubmissionHandler(
    deps,
    new PrismaAccountDirectory(ctx.db),
    new AuthThrottle(ctx.redis, { ...ctx.authThrottle, prefix: ctx.config.REDIS_PREFIX }),
    new PrismaDkimKeyStore(ctx.db),
    {
      hostname: ctx.config.MTA_HOSTNAME,
      maxReceived: ctx.config.MAX_RECEIVED_HEADERS,
      hideClient: ctx.config.SUBMISSION_HIDE_CLIENT,
      maxRecipients: ctx.config.MAX_RECIPIENTS,
    },
  );
  const smtp = await server('submission', ctx, handler, true);
  return listen(
    smtp,
    [
      { name: 'submission', ...ctx.config.SUBMISSION_LISTEN },
      { name: 'submissions', ...ctx.config.SUBMISSIONS_LISTEN, implicitTls: true },
    ],
    ctx.config,
    deps.writer,
    policy.client,
  );
}

/**
 * A transaction refused by the inbound policy leaves an event: `refused`, with the queue id that
 * was chosen for it and no message (none was stored), so the admin API's event log shows it.
 */
async function recordRefusal(pool: pg.Pool, refusal: PolicyRefusal): Promise<void> {
  const { queueId, ...detail } = refusal;
  await pool.query({
    text: `INSERT INTO events (type, queue_id, detail) VALUES ('refused', $1, $2::jsonb)`,
    values: [queueId, JSON.stringify(detail)],
  });
}

/**
 * Our ARC key: the active RSA DKIM key of `MTA_HOSTNAME` or of its nearest parent we host with
 * one (`mx.example.org`, then `example.org`). RSA because RFC 8617 §4.1.3 specifies rsa-sha256
 * for ARC. The key store caches each domain for 5 s.
 */
function arcSealingKey(keys: DkimKeyStore, hostname: string): () => Promise<SealingKey | null> {
  const labels = hostname.toLowerCase().replace(/\.$/, '').split('.');
  const names = labels.slice(0, -1).map((_, i) => labels.slice(i).join('.'));
  return async () => {
    for (const name of names) {
      const rsa = (await keys.signingKeys(name)).find((k) => k.algorithm === 'rsa');
      if (rsa) return { domain: rsa.domain, selector: rsa.selector, privateKey: rsa.privateKey };
    }
    return null;
  };
}
