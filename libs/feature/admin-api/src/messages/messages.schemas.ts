import { z } from 'zod';
import { MessageState, RecipientStatus as RecipientStatuses } from '@mta/queue-state/vocabulary';
import { PageQuery } from '../common/pagination';

/** The recipient statuses of the schema (@mta/queue-state's vocabulary). */
export const RecipientStatus = z.enum(RecipientStatuses);

const Timestamp = z.iso.datetime({ offset: true });

export const ListMessagesQuery = PageQuery.extend({
  status: RecipientStatus.optional().describe('Messages with at least one recipient in this status.'),
  sender: z.string().max(320).optional().describe('Exact envelope sender; `<>` for the null sender.'),
  recipient: z.string().max(320).optional().describe('Exact envelope recipient.'),
  domain: z.string().max(253).optional().describe('Messages with a recipient in this domain.'),
  since: Timestamp.optional().describe('Received at or after (ISO 8601).'),
  until: Timestamp.optional().describe('Received before (ISO 8601).'),
});
export type ListMessagesQuery = z.output<typeof ListMessagesQuery>;

export const MessageParam = z.object({
  id: z
    .string()
    .regex(/^(?:[0-9A-Za-z]{16}|[0-9a-fA-F-]{36})$/, 'expected a queue id or a message UUID')
    .describe('Queue id (as in logs and SMTP replies) or message UUID.'),
});

export const DeleteMessageQuery = z.object({
  bounce: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe(
      '`true`: fail the undelivered recipients so the sender gets a bounce; `false`: delete silently.',
    ),
});

const RecipientView = z.object({
  id: z.uuid(),
  address: z.string(),
  domain: z.string(),
  route: z.enum(['local', 'remote', 'relay']).nullable(),
  status: RecipientStatus,
  attempts: z.number().int(),
  nextAttemptAt: Timestamp.nullable(),
  lastAttemptAt: Timestamp.nullable(),
  lastReply: z
    .object({
      code: z.number().int().nullable(),
      enhanced: z.string().nullable(),
      text: z.string().nullable(),
    })
    .nullable(),
});

export const MessageSummary = z.object({
  id: z.uuid(),
  queueId: z.string(),
  sender: z.string(),
  source: z
    .enum(['mx', 'submission', 'bounce', 'report'])
    .describe(
      '`bounce`: a delivery status notification we wrote (RFC 3464): a failure, a delay notice, or a success ' +
        'notice for recipients that asked for NOTIFY=SUCCESS (`delivered` for our mailboxes, `relayed` when ' +
        'the next hop did not offer DSN; none when it did, as it answers the request itself).',
    ),
  state: z.enum(MessageState),
  size: z.number().int(),
  receivedAt: Timestamp,
  subject: z.string().nullable(),
  from: z.string().nullable(),
  messageIdHeader: z.string().nullable(),
  recipientCount: z.number().int(),
  recipients: z.array(z.object({ address: z.string(), status: RecipientStatus })).describe('The first 100.'),
});

const SpfCheckView = z.object({
  domain: z.string(),
  result: z.string().describe('pass, fail, softfail, neutral, none, temperror, permerror (RFC 7208 §2.6).'),
  comment: z.string().nullable(),
  info: z.string().describe('The Authentication-Results entry.'),
});

/** What mx found and decided (libs/policy StoredAuthResults), stored in `messages.auth_results`. */
export const AuthResultsView = z
  .object({
    spf: z.object({
      mailfrom: SpfCheckView.nullable().describe('The MAIL FROM identity; null for the null sender.'),
      helo: SpfCheckView.nullable().describe('The HELO identity; null without a HELO name.'),
    }),
    dkim: z
      .array(
        z.object({
          domain: z.string().nullable(),
          selector: z.string().nullable(),
          algorithm: z.string().nullable(),
          result: z.string(),
          aligned: z.string().nullable().describe('The d= that aligns with the header From, if it does.'),
          comment: z.string().nullable(),
          info: z.string(),
        }),
      )
      .describe('Every DKIM-Signature (RFC 6376, RFC 8463).'),
    arc: z.object({
      result: z.string().describe('none, pass or fail (RFC 8617).'),
      instance: z.number().int().nullable(),
      sealer: z.string().nullable().describe('d= of the latest ARC-Message-Signature.'),
      comment: z.string().nullable(),
      info: z.string().nullable(),
    }),
    dmarc: z
      .object({
        result: z.string().describe('pass, fail, none, temperror, permerror.'),
        fromDomain: z.string().nullable(),
        policy: z.string().nullable().describe('The policy for this message: p, or sp/np for a subdomain.'),
        published: z
          .object({ p: z.string(), sp: z.string(), np: z.string().nullable(), testing: z.boolean() })
          .nullable(),
        pct: z.number().int().nullable(),
        record: z.string().nullable(),
        alignment: z.object({ spf: z.string().nullable(), dkim: z.string().nullable() }).nullable(),
        comment: z.string().nullable(),
        info: z.string().nullable(),
      })
      .nullable(),
    error: z.string().nullable(),
    decision: z.object({
      action: z.enum(['accept', 'quarantine', 'reject', 'defer']),
      reply: z.object({ code: z.number().int(), enhanced: z.string(), text: z.string() }).nullable(),
      reason: z.string(),
      appliedPolicy: z.string().nullable().describe('The DMARC policy applied after pct sampling.'),
    }),
  })
  .describe('SPF, DKIM, ARC and DMARC results of mail received on port 25, and what was done with it.');

export const MessageDetail = MessageSummary.omit({ recipients: true }).extend({
  client: z.object({
    address: z.string().nullable(),
    hostname: z
      .string()
      .nullable()
      .describe(
        "The client's forward-confirmed reverse DNS name (a PTR name whose A/AAAA records contain the " +
          'address), as in our Received field; null when none confirms or DNS did not answer within 2 s.',
      ),
    helo: z.string().nullable(),
    authUser: z.string().nullable(),
  }),
  dsn: z
    .object({ ret: z.enum(['FULL', 'HDRS']).nullable(), envid: z.string().nullable() })
    .describe('RET and ENVID of MAIL FROM (RFC 3461), passed on to a next hop that offers DSN.'),
  smtpUtf8: z
    .boolean()
    .describe(
      'The client said SMTPUTF8 (RFC 6531). Passed on to a next hop that offers it; to one that does not ' +
        '(e.g. Dovecot 2.3 LMTP) the message goes without it when its addresses and header are ASCII, and ' +
        'fails with 554 5.6.7 only when it needs UTF-8.',
    ),
  eightBitMime: z.boolean(),
  authentication: AuthResultsView.nullable().describe('null: not checked (submission, bounces, checks off).'),
  quarantine: z.boolean().describe('DMARC p=quarantine: delivered to the Junk folder.'),
  headers: z
    .array(z.object({ name: z.string(), value: z.string() }))
    .describe('The header fields, unfolded.'),
  recipients: z.array(RecipientView),
  attempts: z.array(
    z.object({
      id: z.uuid(),
      recipient: z.string(),
      startedAt: Timestamp,
      finishedAt: Timestamp.nullable(),
      mxHost: z.string().nullable(),
      ip: z.string().nullable(),
      port: z.number().int().nullable(),
      reply: z.object({
        code: z.number().int().nullable(),
        enhanced: z.string().nullable(),
        text: z.string().nullable(),
      }),
      tls: z
        .object({ version: z.string(), cipher: z.string().nullable(), verified: z.boolean().nullable() })
        .nullable(),
      tlsPolicy: z
        .string()
        .nullable()
        .describe(
          'Remote delivery: the TLS policy the attempt was made under: `opportunistic` (STARTTLS when offered, certificate not checked), `mta-sts` (an enforced MTA-STS policy: verified TLS to a listed MX or no delivery), `mta-sts-testing`, `dane`. Null for local delivery and older attempts.',
        ),
    }),
  ),
});

export const QueueActionResult = z.object({
  message: MessageSummary,
  changed: z.number().int().describe('Recipients whose status changed.'),
  enqueued: z.array(z.string()).describe('Jobs put on the queue (ids).'),
  enqueueError: z.string().optional().describe('Redis did not take the jobs; the reconciler will.'),
});
