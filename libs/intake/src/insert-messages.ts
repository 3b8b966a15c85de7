import type { IncomingMessage } from './incoming-message';

/**
 * The SQL that stores a batch of messages in ONE statement: data-modifying CTEs run in one
 * implicit transaction (all rows or none), so a batch costs one round trip and one commit.
 * Prisma would send seven statements per message and compile each query, which dominated
 * intake's CPU time.
 *
 * Columns travel as arrays, one element per message (or per recipient, per chunk), and are
 * joined back to their message by queue id, which is unique. Each body chunk is its own
 * parameter: pg sends a Buffer parameter in binary, whereas a bytea[] parameter would be
 * hex-encoded as text, twice the bytes.
 */
export interface InsertStatement {
  /** A prepared statement's name when the text is one of the few common shapes, else none. */
  name?: string;
  text: string;
  values: unknown[];
}

/**
 * The text depends only on the number of chunks in the batch; up to this many, the statement is
 * prepared once per connection under a name (parse and analysis skipped from then on).
 */
const NAMED_UP_TO_CHUNKS = 64;

const FIXED_PARAMETERS = 27;

export function insertMessages(batch: readonly IncomingMessage[]): InsertStatement {
  const m = {
    queueId: [] as string[],
    source: [] as string[],
    sender: [] as string[],
    clientAddress: [] as string[],
    clientHelo: [] as (string | null)[],
    authUser: [] as (string | null)[],
    size: [] as number[],
    dsnRet: [] as (string | null)[],
    dsnEnvid: [] as (string | null)[],
    smtpUtf8: [] as boolean[],
    eightBitMime: [] as boolean[],
    messageId: [] as (string | null)[],
    from: [] as (string | null)[],
    subject: [] as (string | null)[],
    detail: [] as string[],
    authResults: [] as (string | null)[],
    quarantine: [] as boolean[],
    clientHostname: [] as (string | null)[],
    requireTls: [] as boolean[],
  };
  const r = {
    queueId: [] as string[],
    address: [] as string[],
    domain: [] as string[],
    route: [] as string[],
    notify: [] as string[],
    orcpt: [] as (string | null)[],
  };
  const c = { queueId: [] as string[], seq: [] as number[], data: [] as Buffer[] };

  for (const message of batch) {
    m.queueId.push(message.queueId);
    m.source.push(message.source);
    m.sender.push(message.sender);
    m.clientAddress.push(message.clientAddress);
    m.clientHelo.push(message.clientHelo);
    m.authUser.push(message.authUser);
    m.size.push(message.size);
    m.dsnRet.push(message.dsnRet);
    m.dsnEnvid.push(message.dsnEnvid);
    m.smtpUtf8.push(message.smtpUtf8);
    m.eightBitMime.push(message.eightBitMime);
    m.messageId.push(truncate(message.header.messageId, 998));
    m.from.push(truncate(message.header.from, 998));
    m.subject.push(truncate(message.header.subject, 998));
    m.authResults.push(
      message.authResults ? JSON.stringify(message.authResults).replaceAll('\\u0000', '') : null,
    );
    m.quarantine.push(message.quarantine ?? false);
    m.clientHostname.push(truncate(message.clientHostname ?? null, 255));
    m.requireTls.push(message.requireTls ?? false);
    m.detail.push(
      JSON.stringify({ source: message.source, size: message.size, recipients: message.recipients.length }),
    );
    for (const rcpt of message.recipients) {
      r.queueId.push(message.queueId);
      r.address.push(rcpt.address);
      r.domain.push(rcpt.domain);
      r.route.push(rcpt.route);
      r.notify.push(`{${rcpt.notify.join(',')}}`);
      r.orcpt.push(rcpt.orcpt);
    }
    message.chunks.forEach((chunk, seq) => {
      c.queueId.push(message.queueId);
      c.seq.push(seq);
      c.data.push(chunk);
    });
  }

  const chunkParameters =
    c.data.map((_, i) => `$${i + FIXED_PARAMETERS + 1}::bytea`).join(', ') || 'NULL::bytea';
  const text = `
WITH m AS (
  INSERT INTO messages (queue_id, source, sender, client_address, client_helo, auth_user, size,
                        dsn_ret, dsn_envid, smtp_utf8, eight_bit_mime, message_id_header, from_header, subject,
                        auth_results, quarantine, client_hostname, require_tls)
  SELECT * FROM unnest($1::text[], $2::message_source[], $3::text[], $4::text[], $5::text[], $6::text[],
                       $7::int[], $8::dsn_ret[], $9::text[], $10::bool[], $11::bool[], $12::text[],
                       $13::text[], $14::text[], $24::jsonb[], $25::bool[],
                       $26::text[], $27::bool[])
  RETURNING id, queue_id
), r AS (
  INSERT INTO recipients (message_id, address, domain, route, dsn_notify, dsn_orcpt, next_attempt_at)
  SELECT m.id, x.address, x.domain, x.route::recipient_route, x.notify::dsn_notify[], x.orcpt, now()
  FROM unnest($16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::text[])
       AS x(queue_id, address, domain, route, notify, orcpt)
  JOIN m USING (queue_id)
), c AS (
  INSERT INTO message_chunks (message_id, seq, data)
  SELECT m.id, x.seq, x.data
  FROM unnest($22::text[], $23::int[], ARRAY[${chunkParameters}]) AS x(queue_id, seq, data)
  JOIN m USING (queue_id)
  WHERE x.data IS NOT NULL
), e AS (
  INSERT INTO events (message_id, queue_id, type, detail)
  SELECT m.id, m.queue_id, 'accepted', x.detail::jsonb
  FROM unnest($1::text[], $15::text[]) AS x(queue_id, detail)
  JOIN m USING (queue_id)
)
SELECT id, queue_id FROM m`;
  const values: unknown[] = [
    m.queueId,
    m.source,
    m.sender,
    m.clientAddress,
    m.clientHelo,
    m.authUser,
    m.size,
    m.dsnRet,
    m.dsnEnvid,
    m.smtpUtf8,
    m.eightBitMime,
    m.messageId,
    m.from,
    m.subject,
    m.detail,
    r.queueId,
    r.address,
    r.domain,
    r.route,
    r.notify,
    r.orcpt,
    c.queueId,
    c.seq,
    m.authResults,
    m.quarantine,
    m.clientHostname,
    m.requireTls,
    ...c.data,
  ];
  const name = c.data.length <= NAMED_UP_TO_CHUNKS ? `intake-insert-${c.data.length}` : undefined;
  return { name, text, values };
}

/** A header field for a text column: at most `max` characters, and no NUL (text cannot hold it). */
function truncate(value: string | null, max: number): string | null {
  return value === null ? null : value.replaceAll('\u0000', '').slice(0, max);
}
