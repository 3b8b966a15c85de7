import { z } from 'zod';
import { QueueName } from './queue-names';

/**
 * One validated payload per queue. Jobs carry ids and small facts only: message bodies
 * live in PostgreSQL and never go into Redis, which `.strict()` enforces (an unknown key
 * such as `body` is refused at enqueue time).
 */

/** Messages per `accepted` job at most. */
export const ACCEPTED_MAX_MESSAGES = 512;

const id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'ids are letters, digits, "_" or "-"');

/**
 * Messages to route: the ones intake committed together (one job per group commit, since a
 * BullMQ job costs intake more CPU than the rest of the message's storage), or one message that
 * is enqueued again (reconciler, DSN, release by the API).
 */
export const AcceptedJob = z.object({ messageIds: z.array(id).min(1).max(ACCEPTED_MAX_MESSAGES) }).strict();

export const DeliveryJob = z
  .object({
    messageId: id,
    route: z.enum(['local', 'remote', 'relay']),
    /** Recipient domain for `remote`, smart host for `relay`, `local` for mailbox delivery. */
    destination: z.string().min(1).max(255),
    recipientIds: z.array(id).min(1).max(1000),
    attempt: z.number().int().min(1),
  })
  .strict();

export const RecipientOutcome = z
  .object({
    recipientId: id,
    kind: z.enum(['delivered', 'deferred', 'failed']),
    code: z.number().int().min(200).max(599),
    enhanced: z
      .string()
      .regex(/^[245]\.\d{1,3}\.\d{1,3}$/)
      .optional(),
    text: z.string().max(2000),
    /** Optional facts for the `delivery_attempts` row: the host that answered (MX, smart host, LMTP). */
    remote: z
      .object({
        host: z.string().max(255),
        address: z.string().max(64).optional(),
        port: z.number().int().min(1).max(65535).optional(),
      })
      .strict()
      .optional(),
    /** Optional: TLS of the session that gave the answer (absent: unknown, null: none). */
    tls: z
      .object({
        version: z.string().max(64).nullable(),
        cipher: z.string().max(128).nullable(),
        verified: z.boolean(),
      })
      .strict()
      .nullable()
      .optional(),
    /**
     * Optional, for a remote delivery: the TLS policy the attempt was made under
     * (`opportunistic`, `mta-sts`, `mta-sts-testing`, `dane`; the list is @mta/tls-policy's).
     * Set also when no TLS session came about (an enforced policy refused the host).
     */
    tlsPolicy: z
      .string()
      .regex(/^[a-z-]{1,32}$/)
      .optional(),
    /**
     * Optional, for a remote delivery: whether the next hop offered DSN (RFC 3461), so NOTIFY
     * and ORCPT went on with the recipient and the next hop answers NOTIFY=SUCCESS. False: it did
     * not, and a recipient that asked for SUCCESS gets a `relayed` DSN from us (RFC 3461 §5.2.2).
     * Absent: final (local) delivery, or not known.
     */
    nextHopDsn: z.boolean().optional(),
  })
  .strict();

export const OutcomeJob = z
  .object({
    messageId: id,
    route: DeliveryJob.shape.route,
    destination: DeliveryJob.shape.destination,
    attempt: z.number().int().min(1),
    results: z.array(RecipientOutcome).min(1),
  })
  .strict();

export const PolicyJob = z
  .object({
    stage: z.enum(['connect', 'mail', 'rcpt', 'data']),
    service: z.enum(['mx', 'submission']),
    clientAddress: z.string().max(64),
    helo: z.string().max(255).optional(),
    sender: z.string().max(512).optional(),
    recipient: z.string().max(512).optional(),
    authUser: z.string().max(512).optional(),
    messageId: id.optional(),
    /** The connect stage found the client on a DNS allow list: no greylisting at RCPT. */
    allowListed: z.boolean().optional(),
    /** Whether greylisting applies to this recipient (its domain's setting, else GREYLISTING). */
    greylist: z.boolean().optional(),
    /** The asking process: the answer is published on its channel (libs/policy, client.ts). */
    replyTo: id.optional(),
  })
  .strict();

/**
 * Deliveries (rows of `webhook_deliveries`) of one endpoint, sent in order by one job: up to
 * WEBHOOK_BATCH_MAX (1000 at most) for an endpoint that takes batches.
 */
export const WebhookJob = z
  .object({
    endpointId: id,
    deliveryIds: z.array(id).min(1).max(1000),
  })
  .strict();

export const contracts = {
  [QueueName.Accepted]: AcceptedJob,
  [QueueName.Delivery]: DeliveryJob,
  [QueueName.Outcome]: OutcomeJob,
  [QueueName.Policy]: PolicyJob,
  [QueueName.Webhooks]: WebhookJob,
} satisfies Record<QueueName, z.ZodType>;

export type JobData<N extends QueueName> = z.output<(typeof contracts)[N]>;

/** Thrown when a payload does not match its queue's contract; names each bad field. */
export class JobContractError extends Error {
  constructor(
    readonly queue: QueueName,
    readonly issues: string[],
  ) {
    super(`invalid ${queue} job: ${issues.join('; ')}`);
    this.name = 'JobContractError';
  }
}

/** Validates `data` against the contract of `queue`, for producers and consumers alike. */
export function parseJob<N extends QueueName>(queue: N, data: unknown): JobData<N> {
  const result = contracts[queue].safeParse(data);
  if (!result.success) {
    throw new JobContractError(
      queue,
      result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
  return result.data as JobData<N>;
}

/** A destination in a job id: ':' (e.g. the smart host destination `relay:<host>`) as `%3A`. */
const idPart = (s: string): string => s.replace(/%/g, '%25').replace(/:/g, '%3A');

/**
 * What names one delivery step, apart from the payload that carries it: a `delivery` job and the
 * `outcome` job that reports it share it, so either id follows from the other's key.
 */
export type StepKey = Pick<JobData<QueueName.Delivery>, 'messageId' | 'route' | 'destination' | 'attempt'>;

/** The id of a step's `delivery` or `outcome` job. */
export function stepJobId(queue: QueueName.Delivery | QueueName.Outcome, key: StepKey): string {
  return `${queue}/${key.messageId}/${key.route}/${idPart(key.destination)}/${key.attempt}`;
}

/**
 * Deterministic job ids, so that a replay (reconciler, retry after a crash) of the same
 * step is deduplicated by BullMQ instead of running twice. BullMQ ids may not contain ':'.
 * `undefined` lets BullMQ number the job (questions that are never replayed).
 */
export const jobIdOf: { [N in QueueName]: (job: JobData<N>) => string | undefined } = {
  // One message: `accepted/<id>`, so that a replay of the same message finds its job. A group:
  // named after its first message and its size.
  [QueueName.Accepted]: ({ messageIds: [first, ...rest] }) =>
    rest.length === 0 ? `accepted/${first}` : `accepted/${first}/${rest.length + 1}`,
  [QueueName.Delivery]: (job) => stepJobId(QueueName.Delivery, job),
  [QueueName.Outcome]: (job) => stepJobId(QueueName.Outcome, job),
  [QueueName.Policy]: () => undefined,
  // A delivery due again (retry, or its job lost with Redis) gets a new job: no fixed id.
  [QueueName.Webhooks]: () => undefined,
};
