/**
 * Every BullMQ queue of the MTA, in one place. A queue carries one kind of job, whose
 * payload contract is in `contracts.ts` under the same name.
 */
export enum QueueName {
  /** A message was committed to PostgreSQL by `mx` or `submission`; `queue` routes it. */
  Accepted = 'accepted',
  /** One delivery attempt of one message to one destination (domain, smart host or local). */
  Delivery = 'delivery',
  /** Per-recipient results of a delivery attempt, applied by `queue`. */
  Outcome = 'outcome',
  /** A policy question from an SMTP service, answered by `policy`. */
  Policy = 'policy',
  /** Events for one webhook endpoint, POSTed by the webhooks worker (libs/webhooks). */
  Webhooks = 'webhooks',
}

export const ALL_QUEUES: readonly QueueName[] = Object.values(QueueName);
