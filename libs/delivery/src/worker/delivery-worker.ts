/**
 * The `delivery` worker (DESIGN.md "A message's life", step 4): takes `delivery` jobs, delivers
 * with the agent of the job's route, and reports every recipient's result as one `outcome` job
 * for the queue manager. Plain class; `@mta/feature-delivery` only starts and stops it.
 *
 * Per job:
 * 1. Only recipients still waiting are delivered: message `queued` (not `held`), recipient
 *    `queued`/`deferred` (not `held`, not final) with fewer attempts than the job's attempt (a
 *    replayed job whose outcome was applied finds nothing to do), and its domain not paused
 *    (`domain_pauses`; such recipients get no outcome, so their `next_attempt_at` stays due
 *    and the reconciler hands them to the dispatcher, which postpones them until the pause ends).
 * 2. A job replayed after a crash whose `outcome` job already exists is not delivered again
 *    (looked up only for a job started before).
 * 3. `local` → the local agent (Maildir or LMTP); `remote`/`relay` → the remote agent (MX lookup),
 *    `relay:<host>` destinations (smart host) → the smart-host agent.
 * 4. A `deferred-local` report (no free slot for the destination) puts the same job back as
 *    delayed (`moveToDelayed` + `DelayedError`), without an outcome and without an attempt.
 * 5. Otherwise `outcome` {messageId, route, destination, attempt, results} is enqueued (retried
 *    for a while if Redis is briefly away: the delivery already happened).
 * 6. PostgreSQL unreachable while loading the job (step 1: before anything is delivered) → the
 *    same job is put back as delayed with an exponential backoff (1 s, 2 s, 4 s ... 60 s at most,
 *    counted by BullMQ's `attemptsStarted`), instead of failing and waiting for the reconciler.
 *
 * Delivery is at least once. The window: a worker that dies (SIGKILL, OOM, node lost) after the
 * remote end accepted the message and before the `outcome` job is in Redis leaves its job
 * `active` without a lock; after `lockMs` BullMQ's stalled check (every `lockMs`) gives it to
 * another worker, which delivers it again. Step 1 and 2 close the window once the outcome is
 * enqueued. A worker whose event loop stalls longer than `lockMs` loses its lock the same way.
 * Graceful shutdown (SIGTERM) has no such window: the worker stops taking jobs, lets running
 * deliveries finish for `shutdownGraceMs`, then aborts them (unsettled recipients deferred, their
 * outcome sent).
 */
import { setMaxListeners } from 'node:events';
import { DelayedError, type Job, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Logger } from '@mta/observability';
import {
  JobProducer,
  QueueName,
  createJobWorker,
  jobIdOf,
  redisErrorLog,
  settlesWithin,
  type JobData,
} from '@mta/queue';
import { Counter, type Registry } from 'prom-client';
import type { DeliveryAgent, DeliveryReport } from '../contract';
import { toOutcomeResults } from '../outcome';
import { RequestLoader } from '../request-loader';

export type DeliveryJobData = JobData<QueueName.Delivery>;

/** The agents a worker chooses from by route and destination. */
export interface DeliveryAgents {
  /** `remote` and `relay` routes: MX lookup. */
  readonly remote: DeliveryAgent;
  /** `local` route: Maildir or LMTP. */
  readonly local: DeliveryAgent;
  /** `relay:<host>` destinations (RELAY_HOST); absent: those go to `remote`. */
  readonly smartHost?: DeliveryAgent;
}

export interface DeliveryWorkerDeps {
  /** A plain pg pool: the job's message, recipients and pauses in one query (request-loader.ts). */
  readonly pool: Pick<pg.Pool, 'query'>;
  /** Enqueues the outcome, and looks up an existing one for replayed jobs. */
  readonly producer: Pick<JobProducer, 'enqueue' | 'queue'>;
  /** A blocking connection (`createRedisConnection(url, 'worker')`), owned by the caller. */
  readonly connection: Redis;
  /** `REDIS_PREFIX`. */
  readonly prefix: string;
  readonly agents: DeliveryAgents;
  readonly logger: Logger;
  /** Where the counters go (`Metrics.registry`); absent: not counted. */
  readonly registry?: Registry;
}

export interface DeliveryWorkerOptions {
  /** Jobs worked on at once by this process (`DELIVERY_CONCURRENCY`). Default 20. */
  readonly concurrency?: number;
  /**
   * BullMQ lock of a running job (`DELIVERY_LOCK_MS`, default 30 s), renewed every half of it;
   * also the stalled-check interval. A killed worker's jobs are taken over after 1-3 × this.
   */
  readonly lockMs?: number;
  /** How often a job may stall (its worker died) and still be retried. Default 3. */
  readonly maxStalledCount?: number;
  /** On close: how long running deliveries may go on before they are aborted. Default 12 s. */
  readonly shutdownGraceMs?: number;
  /**
   * On close, after the abort: how long aborted deliveries get to report their recipients
   * deferred before the worker stops waiting for them. Default 5 s.
   */
  readonly abortGraceMs?: number;
  /** Tries to enqueue the outcome (0.5 s, 1 s, 2 s ... apart). Default 6. */
  readonly outcomeTries?: number;
  /** PostgreSQL unreachable: first delay before the job runs again, doubling. Default 1 s. */
  readonly dbRetryFirstMs?: number;
  /** ... up to this delay. Default 60 s. */
  readonly dbRetryMaxMs?: number;
}

/** What a job came to (the BullMQ return value, for inspection and tests). */
export type JobResult =
  | {
      readonly result: 'reported';
      readonly delivered: number;
      readonly deferred: number;
      readonly failed: number;
    }
  | { readonly result: 'skipped'; readonly reason: string };

export class DeliveryWorker {
  private worker?: Worker;
  private readonly abort = new AbortController();
  private readonly opts: Required<DeliveryWorkerOptions>;
  private readonly jobs?: Counter<'result'>;
  private readonly recipients?: Counter<'kind' | 'route'>;
  private readonly deferrals?: Counter<'reason' | 'source'>;
  private readonly shapingDeferrals?: Counter<'limit'>;
  private readonly tlsAnswers?: Counter<'tls'>;
  private readonly tlsAttempts?: Counter<'policy' | 'version' | 'verified' | 'kind'>;
  private closing?: Promise<void>;
  /** Jobs being processed now. */
  private running = 0;
  /** The jobs that start together are loaded with one query. */
  private readonly loader: RequestLoader;

  constructor(
    private readonly deps: DeliveryWorkerDeps,
    options: DeliveryWorkerOptions = {},
  ) {
    this.loader = new RequestLoader(deps.pool);
    this.opts = {
      concurrency: options.concurrency ?? 20,
      lockMs: options.lockMs ?? 30_000,
      maxStalledCount: options.maxStalledCount ?? 3,
      // 12 s + 5 s: within the process's shutdown bound (libs/runtime/src/shutdown.ts, 25 s,
      // itself under Kubernetes' default terminationGracePeriodSeconds of 30 s).
      shutdownGraceMs: options.shutdownGraceMs ?? 12_000,
      abortGraceMs: options.abortGraceMs ?? 5_000,
      outcomeTries: options.outcomeTries ?? 6,
      dbRetryFirstMs: options.dbRetryFirstMs ?? 1_000,
      dbRetryMaxMs: options.dbRetryMaxMs ?? 60_000,
    };
    // Every running delivery listens to the one shutdown signal (a few listeners each, removed
    // when it ends): more than Node's default warning threshold of 10 is expected, not a leak.
    setMaxListeners(this.opts.concurrency * 4 + 10, this.abort.signal);
    if (deps.registry) {
      this.jobs = new Counter({
        name: 'mta_delivery_jobs_total',
        help: 'Delivery jobs by result: reported, skipped, deferred_local (no slot), db_unavailable (PostgreSQL unreachable, retried after a backoff), error.',
        labelNames: ['result'],
        registers: [deps.registry],
      });
      this.recipients = new Counter({
        name: 'mta_delivery_recipients_total',
        help: 'Recipient results of delivery attempts by kind (delivered, deferred, failed) and route.',
        labelNames: ['kind', 'route'],
        registers: [deps.registry],
      });
      this.deferrals = new Counter({
        name: 'mta_delivery_deferrals_total',
        help: 'Deferred recipients by reason (enhanced status code, else reply code) and source (remote: the next hop said so; local: DNS, connection, timeout...).',
        labelNames: ['reason', 'source'],
        registers: [deps.registry],
      });
      this.shapingDeferrals = new Counter({
        name: 'mta_delivery_shaping_deferrals_total',
        help: 'Delivery jobs put back untried by traffic shaping, by limit: connections (no free slot for the destination), rate (its message rate spent), unavailable (Redis away).',
        labelNames: ['limit'],
        registers: [deps.registry],
      });
      this.tlsAnswers = new Counter({
        name: 'mta_delivery_tls_recipients_total',
        help: 'Recipients answered by a remote SMTP server (remote and relay routes), by whether the session used TLS (yes, no).',
        labelNames: ['tls'],
        registers: [deps.registry],
      });
      this.tlsAttempts = new Counter({
        name: 'mta_delivery_tls_attempts_total',
        help: 'Recipient results of remote delivery attempts by outbound TLS policy (opportunistic, mta-sts, mta-sts-testing, dane), TLS version (none without TLS), whether the certificate was verified (yes, no) and kind (delivered, deferred, failed).',
        labelNames: ['policy', 'version', 'verified', 'kind'],
        registers: [deps.registry],
      });
    }
  }

  /** Starts taking jobs. */
  start(): void {
    if (this.worker) return;
    const { deps, opts } = this;
    const worker = createJobWorker(QueueName.Delivery, (data, job) => this.tracked(data, job), {
      connection: deps.connection,
      prefix: deps.prefix,
      concurrency: opts.concurrency,
      lockDuration: opts.lockMs,
      stalledInterval: opts.lockMs,
      maxStalledCount: opts.maxStalledCount,
      // One JSON line per kind of error per 30 s; a job lost to a Redis flush at warn.
      onError: redisErrorLog(deps.logger, { source: 'delivery worker' }),
    });
    worker.on('failed', (job, error) => {
      this.jobs?.inc({ result: 'error' });
      deps.logger.error({ jobId: job?.id, err: error.message }, 'delivery job failed');
    });
    worker.on('stalled', (jobId) =>
      deps.logger.warn({ jobId }, 'delivery job stalled (its worker died?): given to a worker again'),
    );
    this.worker = worker;
    deps.logger.info(
      { concurrency: opts.concurrency, lockMs: opts.lockMs, maxStalledCount: opts.maxStalledCount },
      'delivery worker started',
    );
  }

  private async tracked(data: DeliveryJobData, job: Job): Promise<JobResult> {
    this.running++;
    try {
      return await this.process(data, job);
    } finally {
      this.running--;
    }
  }

  /** One delivery job; public for tests. */
  async process(data: DeliveryJobData, job?: Job): Promise<JobResult> {
    const { deps } = this;
    // Only the recipients that still wait for this attempt, outside paused domains.
    const load = await this.loader.load(data).catch((error: unknown) => this.retryLater(error, job));
    const log = deps.logger.child({ queueId: load.queueId ?? undefined, jobId: job?.id });
    if (!load.ok) return this.skip(log, data, load.reason);

    // A replay of a delivery that was already reported (a job that stalled after its outcome
    // was enqueued: its worker died): the outcome will be (or was) applied; delivering again
    // would only duplicate the message. Only a job started before can be one (BullMQ counts
    // the starts); the reconciler replaces a finished job only when its outcome is not pending
    // (dispatcher.ts), so a job on its first start costs no lookup. Called without a job (tests,
    // tools): always looked up.
    if ((job?.attemptsStarted ?? 2) > 1) {
      const outcomeId = jobIdOf[QueueName.Outcome]({ ...data, results: [] } as JobData<QueueName.Outcome>);
      if (outcomeId && (await deps.producer.queue(QueueName.Outcome).getJob(outcomeId)))
        return this.skip(log, data, 'outcome already reported');
    }

    const agent = this.agentFor(data);
    const report = await agent.deliver({ ...load.request, signal: this.abort.signal });

    if (report.status === 'deferred-local') {
      const retryAfterMs = report.retryAfterMs ?? 5_000;
      this.jobs?.inc({ result: 'deferred_local' });
      this.shapingDeferrals?.inc({ limit: report.limit ?? 'connections' });
      log.debug(
        { destination: data.destination, retryAfterMs, limit: report.limit },
        'traffic shaping: job delayed',
      );
      if (!job) return { result: 'skipped', reason: 'deferred-local' };
      await job.moveToDelayed(Date.now() + retryAfterMs, job.token);
      throw new DelayedError();
    }

    await this.report(data, report);
    this.jobs?.inc({ result: 'reported' });
    const count = { delivered: 0, deferred: 0, failed: 0 };
    for (const r of report.results) {
      count[r.kind]++;
      this.recipients?.inc({ kind: r.kind, route: data.route });
      if (r.kind === 'deferred')
        this.deferrals?.inc({ reason: r.enhanced ?? String(r.code), source: r.source });
      if (data.route !== 'local' && r.source === 'remote')
        this.tlsAnswers?.inc({ tls: r.tls ? 'yes' : 'no' });
      if (r.tlsPolicy) {
        const version = r.tls?.protocol ?? 'none';
        const verified = r.tls?.authorized ? 'yes' : 'no';
        this.tlsAttempts?.inc({ policy: r.tlsPolicy, version, verified, kind: r.kind });
      }
      log.info(
        {
          recipient: r.address,
          kind: r.kind,
          reply: `${r.code}${r.enhanced ? ` ${r.enhanced}` : ''} ${r.text}`,
          attempt: data.attempt,
          destination: data.destination,
          ...(r.remote
            ? { remote: `${r.remote.host}[${r.remote.address ?? ''}]:${r.remote.port ?? ''}` }
            : {}),
          ...(r.tls ? { tls: r.tls.protocol } : {}),
          ...(r.tlsPolicy ? { tlsPolicy: r.tlsPolicy } : {}),
        },
        `delivery ${r.kind}`,
      );
    }
    return { result: 'reported', ...count };
  }

  /**
   * Stops taking jobs and waits for the running ones; after `shutdownGraceMs` they are aborted
   * (unsettled recipients are reported deferred), and after `abortGraceMs` more the wait ends anyway
   * (those jobs then stall and go to another worker). The agents are closed by their owner.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    const { shutdownGraceMs, abortGraceMs } = this.opts;
    // BullMQ's close stops fetching, waits for the running jobs, then closes its connections.
    // It is never awaited without a bound: a delivery that ignores the abort, or a blocking
    // connection that never reports its end, must not keep the process from exiting.
    const closed = worker.close();
    if (await settlesWithin(closed, shutdownGraceMs)) return;
    this.deps.logger.warn(
      { graceMs: shutdownGraceMs, running: this.running },
      'deliveries still running at shutdown: aborting them',
    );
    this.abort.abort();
    if (await settlesWithin(closed, abortGraceMs)) return;
    if (this.running > 0)
      this.deps.logger.error(
        { running: this.running },
        'delivery jobs did not finish: they stay claimed until their lock expires, then another worker retries them',
      );
    else
      this.deps.logger.warn(
        'delivery worker did not close its Redis connections in time: left to the process exit',
      );
  }

  private agentFor(data: DeliveryJobData): DeliveryAgent {
    const { agents } = this.deps;
    if (data.route === 'local') return agents.local;
    if (data.destination.startsWith('relay:') && agents.smartHost) return agents.smartHost;
    return agents.remote;
  }

  /**
   * The job's request could not be loaded because PostgreSQL does not answer: nothing was
   * delivered, so the same job runs again after a backoff (DelayedError keeps it from failing).
   * Any other error fails the job as before.
   */
  private async retryLater(error: unknown, job?: Job): Promise<never> {
    if (!job || !databaseUnreachable(error)) throw error;
    const { dbRetryFirstMs, dbRetryMaxMs } = this.opts;
    const tries = Math.max(1, job.attemptsStarted);
    const delayMs = Math.min(dbRetryMaxMs, dbRetryFirstMs * 2 ** Math.min(tries - 1, 30));
    this.jobs?.inc({ result: 'db_unavailable' });
    this.deps.logger.warn(
      { jobId: job.id, err: errorMessage(error), delayMs, tries },
      'PostgreSQL unreachable while loading a delivery job: it runs again after a backoff',
    );
    await job.moveToDelayed(Date.now() + delayMs, job.token);
    throw new DelayedError();
  }

  private skip(log: Logger, data: DeliveryJobData, reason: string): JobResult {
    this.jobs?.inc({ result: 'skipped' });
    log.info({ destination: data.destination, attempt: data.attempt, reason }, 'delivery job skipped');
    return { result: 'skipped', reason };
  }

  private async report(data: DeliveryJobData, report: DeliveryReport): Promise<void> {
    const outcome: JobData<QueueName.Outcome> = {
      messageId: data.messageId,
      route: data.route,
      destination: data.destination,
      attempt: data.attempt,
      results: toOutcomeResults(report),
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deps.producer.enqueue(QueueName.Outcome, outcome);
        return;
      } catch (error) {
        if (attempt >= this.opts.outcomeTries) throw error;
        this.deps.logger.warn(
          { err: (error as Error).message, attempt },
          'could not enqueue the outcome, trying again',
        );
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
      }
    }
  }
}

/** Node socket errors and PostgreSQL's connection classes (SQLSTATE 08xxx, 57P01-57P03). */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);
const UNREACHABLE_TEXT =
  /connection terminated|timeout exceeded when trying to connect|connection error|terminating connection/i;

/** The error says PostgreSQL could not be reached (not that a query was wrong). */
export function databaseUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = 'code' in error ? error.code : undefined;
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || /^(08|57P0[123])/.test(code))) return true;
  if (error instanceof AggregateError && error.errors.some(databaseUnreachable)) return true;
  return UNREACHABLE_TEXT.test(error.message);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
