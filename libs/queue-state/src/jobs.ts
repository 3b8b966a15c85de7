/**
 * The planning and naming of delivery jobs: which recipients go together, to which destination,
 * as which attempt, under which id. The queue manager's dispatcher is the only caller that
 * enqueues them; the admin API asks it (libs/queue-manager, `QueueDispatch`).
 */
import type { Recipient, RecipientRoute } from '@mta/db';
import { QueueName, stepJobId, type JobData, type StepKey } from '@mta/queue';

export type DeliveryJobData = JobData<QueueName.Delivery>;

/** Recipients per delivery job at most (the `delivery` contract). */
export const MAX_JOB_RECIPIENTS = 1000;

/**
 * The destination of a recipient's delivery job: `local` for mailbox delivery, `relay:<host>`
 * for every `remote` recipient when a smart host is set (RELAY_HOST), else the recipient's
 * domain (a `relay` domain's mail always goes to that domain's own MX).
 */
export function destinationOf(route: RecipientRoute, domain: string, relayHost?: string): string {
  if (route === 'local') return 'local';
  if (route === 'remote' && relayHost) return `relay:${relayHost}`;
  return domain;
}

/** What planning needs of a recipient. */
export type PlannedRecipient = Pick<Recipient, 'id' | 'route' | 'domain' | 'attempts'>;

/**
 * Groups recipients by (route, destination); each group's attempt is one more than its most
 * tried member's, so a replay of the same step has the same id. A recipient not routed yet
 * counts as `remote`.
 */
export function planJobs(
  messageId: string,
  recipients: readonly PlannedRecipient[],
  relayHost?: string,
): DeliveryJobData[] {
  const groups = new Map<
    string,
    { route: RecipientRoute; destination: string; members: PlannedRecipient[] }
  >();
  for (const r of recipients) {
    const route = r.route ?? 'remote';
    const destination = destinationOf(route, r.domain, relayHost);
    const key = `${route}\n${destination}`;
    const group = groups.get(key) ?? { route, destination, members: [] };
    group.members.push(r);
    groups.set(key, group);
  }
  const jobs: DeliveryJobData[] = [];
  for (const { route, destination, members } of groups.values()) {
    for (let i = 0; i < members.length; i += MAX_JOB_RECIPIENTS) {
      const slice = members.slice(i, i + MAX_JOB_RECIPIENTS);
      jobs.push({
        messageId,
        route,
        destination,
        recipientIds: slice.map((r) => r.id),
        attempt: Math.max(...slice.map((r) => r.attempts)) + 1,
      });
    }
  }
  return jobs;
}

/** The id of a step's delivery job. */
export const deliveryJobId = (key: StepKey): string => stepJobId(QueueName.Delivery, key);

/** The id of the outcome job that reports a step's delivery. */
export const outcomeJobId = (key: StepKey): string => stepJobId(QueueName.Outcome, key);
