import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '@mta/config';
import { PrismaService } from '@mta/db';
import { LOGGER, type Logger } from '@mta/observability';
import { JobProducer, QueueName, jobIdOf, type JobData } from '@mta/queue';
import { destinationOf } from '@mta/queue-manager';
import { APP_CONFIG } from '@mta/runtime';

type Route = 'local' | 'remote' | 'relay';

export interface DueRecipient {
  id: string;
  domain: string;
  route: Route | null;
  attempts: number;
}

export interface EnqueueResult {
  enqueued: string[];
  enqueueError?: string;
}

/**
 * Puts recipients the API made due (retry, release, resume) on the queue, the way the queue
 * manager does: one `delivery` job per message and destination, `attempt` = the recipients'
 * highest attempt count + 1, so the deterministic job id deduplicates replays. Recipients not
 * routed yet get an `accepted` job instead, which makes the queue manager route the message.
 *
 * What the queue manager and the delivery workers must honour, because these jobs bypass the
 * queue manager's own scheduling:
 * - A recipient whose status is `held` is never delivered: a worker re-reads the recipients of
 *   its job in PostgreSQL before connecting and skips any that are not `queued`/`deferred`.
 * - A paused destination (`domain_pauses`) is never contacted: the API does not enqueue for one,
 *   and a worker skips a job whose destination is paused (it stays due for the resume).
 * PostgreSQL stays the source of truth: if Redis does not take a job, the state change has
 * been committed anyway and the reconciler enqueues it later.
 */
@Injectable()
export class DeliveryScheduler {
  constructor(
    private readonly db: PrismaService,
    private readonly producer: JobProducer,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async enqueue(messageId: string, recipients: DueRecipient[]): Promise<EnqueueResult> {
    const paused = await this.pausedDomains(recipients.map((r) => r.domain));
    const jobs = this.jobsFor(
      messageId,
      recipients.filter((r) => !paused.has(r.domain)),
    );
    const enqueued: string[] = [];
    try {
      if (recipients.some((r) => r.route === null))
        enqueued.push(await this.producer.enqueue(QueueName.Accepted, { messageIds: [messageId] }));
      for (const job of jobs) {
        const jobId = await this.producer.enqueue(QueueName.Delivery, job);
        await this.promoteIfDelayed(jobId);
        enqueued.push(jobId);
      }
      return { enqueued };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn({ messageId, err: message }, 'admin-api: could not enqueue; the reconciler will');
      return { enqueued, enqueueError: message };
    }
  }

  /**
   * The job id is deterministic, so a job the queue manager already scheduled for this attempt
   * (a delayed job, for the retry schedule) is the one `enqueue` returns: run it now instead.
   */
  private async promoteIfDelayed(jobId: string): Promise<void> {
    const job = await this.producer.queue(QueueName.Delivery).getJob(jobId);
    if (job && (await job.isDelayed())) await job.promote();
  }

  /**
   * Removes the waiting delivery jobs of these recipients from Redis (on hold or delete), so
   * a worker does not even pick them up. A job a worker already holds cannot be removed: the
   * worker's own status check (above) covers it. Best effort.
   */
  async withdraw(messageId: string, recipients: DueRecipient[]): Promise<void> {
    const queue = this.producer.queue(QueueName.Delivery);
    for (const job of this.jobsFor(messageId, recipients)) {
      const jobId = jobIdOf[QueueName.Delivery](job);
      if (!jobId) continue;
      try {
        await queue.remove(jobId);
      } catch (error) {
        this.logger.debug({ messageId, jobId, err: String(error) }, 'admin-api: delivery job not removed');
      }
    }
  }

  private jobsFor(messageId: string, recipients: DueRecipient[]): JobData<QueueName.Delivery>[] {
    const groups = new Map<string, JobData<QueueName.Delivery>>();
    for (const r of recipients) {
      if (r.route === null) continue;
      // The queue manager's own rule: `local`, `relay:<RELAY_HOST>` for remote mail when a smart
      // host is set (a retry must not go around it to the domain's MX), else the domain.
      const destination = destinationOf(r.route, r.domain, this.config.RELAY_HOST || undefined);
      const key = `${r.route}/${destination}`;
      const job = groups.get(key) ?? { messageId, route: r.route, destination, recipientIds: [], attempt: 1 };
      job.recipientIds.push(r.id);
      job.attempt = Math.max(job.attempt, r.attempts + 1);
      groups.set(key, job);
    }
    // The contract allows 1000 recipients per job, and the job id does not name them, so a
    // larger group cannot be split into several jobs: the rest stays due for the reconciler.
    return [...groups.values()].map((job) => ({ ...job, recipientIds: job.recipientIds.slice(0, 1000) }));
  }

  /** Destination domains whose delivery is paused now. */
  async pausedDomains(domains: string[]): Promise<Set<string>> {
    if (domains.length === 0) return new Set();
    const rows = await this.db.client.domainPause.findMany({
      where: {
        domain: { in: [...new Set(domains)] },
        OR: [{ pausedUntil: null }, { pausedUntil: { gt: new Date() } }],
      },
      select: { domain: true },
    });
    return new Set(rows.map((r) => r.domain));
  }
}
