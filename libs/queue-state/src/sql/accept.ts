/**
 * Move `accept` of a message and its recipients (transitions.ts): a batch of messages stored in
 * ONE statement. Data-modifying CTEs run in one implicit transaction (all rows or none), so a
 * batch costs one round trip and one commit; the message starts `received` and its recipients
 * `queued` (the table's `accept` targets), each message with one `accepted` event.
 *
 * Columns travel as arrays, one element per message (or per recipient, per chunk), and are
 * joined back to their message by queue id, which is unique. Each body chunk is its own
 * parameter: pg sends a Buffer parameter in binary, whereas a bytea[] parameter would be
 * hex-encoded as text, twice the bytes.
 */
import type { DsnNotify, DsnRet, RecipientRoute } from '@mta/db';
import { MESSAGE, RECIPIENT } from '../transitions';
import { join, param, sql, statement, type Statement } from './builder';

/** A message as intake hands it over at the end of DATA. */
export interface NewMessage {
  /** Chosen when the data began (newQueueId), so the Received header can name it. */
  readonly queueId: string;
  readonly source: 'mx' | 'submission';
  /** Envelope sender; `''` for the null sender `<>`. */
  readonly sender: string;
  readonly clientAddress: string;
  readonly clientHostname?: string | null;
  readonly clientHelo: string | null;
  readonly authUser: string | null;
  readonly recipients: readonly {
    readonly address: string;
    readonly domain: string;
    readonly route: RecipientRoute;
    readonly notify: readonly DsnNotify[];
    readonly orcpt: string | null;
  }[];
  readonly dsnRet: DsnRet | null;
  readonly dsnEnvid: string | null;
  readonly smtpUtf8: boolean;
  readonly eightBitMime: boolean;
  readonly header: {
    readonly messageId: string | null;
    readonly from: string | null;
    readonly subject: string | null;
  };
  /** The message, header and body, in order. */
  readonly chunks: readonly Buffer[];
  readonly size: number;
  /** mx: the inbound checks' verdict (`messages.auth_results`), as JSON. */
  readonly authResults?: unknown;
  readonly quarantine?: boolean;
  /** MAIL FROM ... REQUIRETLS (RFC 8689). */
  readonly requireTls?: boolean;
}

/**
 * The text depends only on the number of chunks in the batch; up to this many, the statement is
 * named (prepared once per connection, see builder.ts).
 */
const NAMED_UP_TO_CHUNKS = 64;

/** The insert of a batch; returns `id, queue_id` per message. */
export function insertMessages(batch: readonly NewMessage[]): Statement {
  const { m, r, c, chunks } = insertParams(batch);
  // The table's `accept` move: where a message and its recipients start.
  const state = param(MESSAGE.accept.to, 'message_state');
  const status = param(RECIPIENT.accept.to, 'recipient_status');
  const event = param(MESSAGE.accept.event, 'event_type');
  const text = sql`
WITH m AS (
  INSERT INTO messages (queue_id, source, sender, client_address, client_helo, auth_user, size,
                        dsn_ret, dsn_envid, smtp_utf8, eight_bit_mime, message_id_header, from_header, subject,
                        auth_results, quarantine, client_hostname, require_tls, state)
  SELECT x.*, s.state FROM unnest(${m.queueId}, ${m.source}, ${m.sender}, ${m.clientAddress}, ${m.clientHelo},
                       ${m.authUser}, ${m.size}, ${m.dsnRet}, ${m.dsnEnvid}, ${m.smtpUtf8}, ${m.eightBitMime},
                       ${m.messageId}, ${m.from}, ${m.subject}, ${m.authResults}, ${m.quarantine},
                       ${m.clientHostname}, ${m.requireTls}) AS x, (SELECT ${state} AS state) s
  RETURNING id, queue_id
), r AS (
  INSERT INTO recipients (message_id, address, domain, route, dsn_notify, dsn_orcpt, next_attempt_at, status)
  SELECT m.id, x.address, x.domain, x.route::recipient_route, x.notify::dsn_notify[], x.orcpt, now(), ${status}
  FROM unnest(${r.queueId}, ${r.address}, ${r.domain}, ${r.route}, ${r.notify}, ${r.orcpt})
       AS x(queue_id, address, domain, route, notify, orcpt)
  JOIN m USING (queue_id)
), c AS (
  INSERT INTO message_chunks (message_id, seq, data)
  SELECT m.id, x.seq, x.data
  FROM unnest(${c.queueId}, ${c.seq}, ARRAY[${c.data}]) AS x(queue_id, seq, data)
  JOIN m USING (queue_id)
  WHERE x.data IS NOT NULL
), e AS (
  INSERT INTO events (message_id, queue_id, type, detail)
  SELECT m.id, m.queue_id, ${event}, x.detail::jsonb
  FROM unnest(${m.queueId}, ${m.detail}) AS x(queue_id, detail)
  JOIN m USING (queue_id)
)
SELECT id, queue_id FROM m`;
  return statement(text, chunks.length <= NAMED_UP_TO_CHUNKS ? `intake-insert-${chunks.length}` : undefined);
}

/** The statement's parameters: one array per column, of the messages, recipients and chunks. */
function insertParams(batch: readonly NewMessage[]) {
  const rcpts = batch.flatMap((message) => message.recipients.map((rcpt) => ({ message, rcpt })));
  const chunks = batch.flatMap((message) => message.chunks.map((data, seq) => ({ message, seq, data })));
  const of = <T, V>(rows: readonly T[], type: string, f: (row: T) => V) => param(rows.map(f), type);
  const m = {
    // First in the text, so $1; used twice (the messages and their events).
    queueId: of(batch, 'text[]', (x) => x.queueId),
    source: of(batch, 'message_source[]', (x) => x.source),
    sender: of(batch, 'text[]', (x) => x.sender),
    clientAddress: of(batch, 'text[]', (x) => x.clientAddress),
    clientHelo: of(batch, 'text[]', (x) => x.clientHelo),
    authUser: of(batch, 'text[]', (x) => x.authUser),
    size: of(batch, 'int[]', (x) => x.size),
    dsnRet: of(batch, 'dsn_ret[]', (x) => x.dsnRet),
    dsnEnvid: of(batch, 'text[]', (x) => x.dsnEnvid),
    smtpUtf8: of(batch, 'bool[]', (x) => x.smtpUtf8),
    eightBitMime: of(batch, 'bool[]', (x) => x.eightBitMime),
    messageId: of(batch, 'text[]', (x) => truncate(x.header.messageId, 998)),
    from: of(batch, 'text[]', (x) => truncate(x.header.from, 998)),
    subject: of(batch, 'text[]', (x) => truncate(x.header.subject, 998)),
    authResults: of(batch, 'jsonb[]', authResultsJson),
    quarantine: of(batch, 'bool[]', (x) => x.quarantine ?? false),
    clientHostname: of(batch, 'text[]', (x) => truncate(x.clientHostname ?? null, 255)),
    requireTls: of(batch, 'bool[]', (x) => x.requireTls ?? false),
    detail: of(batch, 'text[]', acceptedDetail),
  };
  const r = {
    queueId: of(rcpts, 'text[]', (x) => x.message.queueId),
    address: of(rcpts, 'text[]', (x) => x.rcpt.address),
    domain: of(rcpts, 'text[]', (x) => x.rcpt.domain),
    route: of(rcpts, 'text[]', (x) => x.rcpt.route),
    notify: of(rcpts, 'text[]', (x) => `{${x.rcpt.notify.join(',')}}`),
    orcpt: of(rcpts, 'text[]', (x) => x.rcpt.orcpt),
  };
  const c = {
    queueId: of(chunks, 'text[]', (x) => x.message.queueId),
    seq: of(chunks, 'int[]', (x) => x.seq),
    data: chunks.length
      ? join(
          chunks.map((x) => param(x.data, 'bytea')),
          ', ',
        )
      : sql`NULL::bytea`,
  };
  return { m, r, c, chunks };
}

const acceptedDetail = (x: NewMessage): string =>
  JSON.stringify({ source: x.source, size: x.size, recipients: x.recipients.length });

const authResultsJson = (x: NewMessage): string | null =>
  x.authResults ? JSON.stringify(x.authResults).replaceAll('\\u0000', '') : null;

/** A header field for a text column: at most `max` characters, and no NUL (text cannot hold it). */
function truncate(value: string | null, max: number): string | null {
  return value === null ? null : value.replaceAll('\u0000', '').slice(0, max);
}
