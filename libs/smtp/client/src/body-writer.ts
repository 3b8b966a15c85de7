/**
 * Sending the message content: DATA with dot-stuffing (RFC 5321 §4.1.1.4, §4.5.2) or
 * BDAT chunks (RFC 3030 §2), from a Buffer or a Readable stream.
 *
 * Both return the reply that decides the message (end of data, or the first refusal);
 * transport failures are thrown as DeliveryError by the connection. Local content errors
 * (bare CR/LF, 8-bit to a 7-bit peer, a failing body stream) are found while sending,
 * when part of the message is already on the wire: we must not send the terminator,
 * so the connection is dropped (the server then discards the partial message,
 * RFC 5321 §4.1.1.4 / RFC 3030 §3) and a content error is thrown.
 */
import type { Readable } from 'node:stream';
import {
  assertNoNul,
  BareLineEndingError,
  DotStuffer,
  EightBitError,
  NulError,
  type SmtpReply,
} from '@mta/smtp-protocol';
import type { Connection } from './connection';
import { DeliveryError } from './errors';
import type { Timeouts } from './timeouts';

export type MessageBody = Buffer | Readable;

/** RFC 3030 does not fix a chunk size; 1 MiB keeps round trips few and memory bounded. */
export const BDAT_CHUNK = 1024 * 1024;

export interface BodyOptions {
  /** Abort if an 8-bit byte shows up (the peer lacks 8BITMIME and we did not know in advance). */
  readonly reject8bit: boolean;
  /** BDAT chunk size in octets (default BDAT_CHUNK). */
  readonly chunkSize?: number;
}

/** The reply that decided the message, and to which command it answered. */
export interface BodyReply {
  readonly reply: SmtpReply;
  readonly stage: 'data' | 'end-of-data';
}

/** The content could not be sent as given; `kind` says whether retrying can help. */
export class ContentError extends DeliveryError {}

/**
 * A Buffer is written in slices so that each write-and-drain is one "data block" in the
 * sense of RFC 5321 §4.5.3.2.5: a slow but moving peer never trips the timeout.
 */
export const WRITE_SLICE = 64 * 1024;

async function* chunksOf(body: MessageBody): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(body)) {
    for (let off = 0; off < body.length; off += WRITE_SLICE) yield body.subarray(off, off + WRITE_SLICE);
    return;
  }
  for await (const chunk of body) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
}

function contentFailure(conn: Connection, e: unknown): DeliveryError {
  if (e instanceof DeliveryError) return e;
  let err: DeliveryError;
  if (e instanceof BareLineEndingError || e instanceof NulError) {
    // RFC 3463 X.6.0 "Other or undefined media error"
    err = new ContentError({
      code: 554,
      enhanced: '5.6.0',
      text: e.message,
      stage: 'data',
      source: 'local',
      kind: 'failed',
    });
  } else if (e instanceof EightBitError) {
    // RFC 3463 X.6.3 "Conversion required but not supported"
    err = new ContentError({
      code: 554,
      enhanced: '5.6.3',
      text: e.message,
      stage: 'data',
      source: 'local',
      kind: 'failed',
    });
  } else {
    // Our own spool could not be read: try again later. X.3.0 "Other or undefined mail system status"
    const text = `cannot read the message body: ${e instanceof Error ? e.message : String(e)}`;
    err = new ContentError({
      code: 451,
      enhanced: '4.3.0',
      text,
      stage: 'data',
      source: 'local',
      kind: 'deferred',
      cause: e,
    });
  }
  // Never send the terminator after a partial body: drop the connection instead.
  conn.fail(DeliveryError.local('data', '4.4.2', 'connection dropped by the client: ' + err.text));
  return err;
}

/**
 * DATA: `DATA` → 354 → stuffed body → `.` → reply.
 * Returns the DATA reply itself when it is not 354.
 */
export async function sendData(
  conn: Connection,
  body: MessageBody,
  t: Timeouts,
  opts: BodyOptions,
): Promise<BodyReply> {
  const start = await conn.command('DATA', 'data', t.dataInit); // §4.5.3.2.4
  return afterDataReply(conn, start, body, t, opts);
}

/**
 * The rest of DATA once its reply is in (read here, or after a pipelined group, RFC 2920 §3.1):
 * on 354 the stuffed body, `.` and the end-of-data reply; otherwise the DATA reply itself
 * (RFC 5321 §3.3: no content unless 354).
 */
export async function afterDataReply(
  conn: Connection,
  start: SmtpReply,
  body: MessageBody,
  t: Timeouts,
  opts: BodyOptions,
): Promise<BodyReply> {
  if (start.code !== 354) return { reply: start, stage: 'data' };
  // Never send a bare CR/LF or a NUL (RFC 5321 §2.3.8; RFC 5322 §2.1): the message fails instead.
  const stuffer = new DotStuffer({ requireCrlf: true, rejectNul: true, reject8bit: opts.reject8bit });
  try {
    // Each chunk is written once the next one is known, so the last one goes out with the
    // end-of-data line in one segment (a small message: the whole body and `.` together).
    let pending: Buffer | null = null;
    for await (const chunk of chunksOf(body)) {
      if (pending) {
        conn.write(pending);
        await conn.drain('data', t.dataBlock); // §4.5.3.2.5
      }
      pending = stuffer.feed(chunk);
    }
    const last = pending;
    const end = stuffer.end();
    conn.together(() => {
      if (last) conn.write(last);
      conn.write(end);
    });
  } catch (e) {
    throw contentFailure(conn, e);
  }
  return { reply: await conn.read('end-of-data', t.endOfData), stage: 'end-of-data' }; // §4.5.3.2.6
}

/**
 * After a 354 to a pipelined DATA when nobody is left to deliver to: the server now reads
 * content, and RFC 2920 §3.1 says the client "should send a single dot" (an empty message)
 * to end it. Returns the reply to that dot, which delivers nothing of ours.
 */
export async function sendEmptyData(conn: Connection, t: Timeouts): Promise<SmtpReply> {
  conn.writeLine('.');
  return conn.read('end-of-data', t.endOfData);
}

/**
 * BDAT (RFC 3030 §2): `BDAT <size>` + exactly that many octets, one reply per chunk,
 * the last chunk flagged `LAST` (possibly empty). No dot-stuffing, no terminator.
 * Returns the first non-250 chunk reply, or the reply to `BDAT ... LAST`.
 */
export async function sendBdat(
  conn: Connection,
  body: MessageBody,
  t: Timeouts,
  opts: BodyOptions,
): Promise<BodyReply> {
  const chunkSize = opts.chunkSize ?? BDAT_CHUNK;
  let offset = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async (last: boolean): Promise<BodyReply> => {
    const data = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    conn.together(() => {
      conn.writeLine(`BDAT ${data.length}${last ? ' LAST' : ''}`);
      conn.write(data);
    });
    await conn.drain('data', t.dataBlock);
    const stage = last ? 'end-of-data' : 'data';
    return { reply: await conn.read(stage, last ? t.endOfData : t.dataBlock), stage };
  };
  try {
    for await (const chunk of chunksOf(body)) {
      assertNoNul(chunk, offset); // RFC 5322 §2.1: never send a NUL, BDAT or not
      if (opts.reject8bit) assertSevenBit(chunk, offset);
      offset += chunk.length;
      for (let off = 0; off < chunk.length;) {
        const take = Math.min(chunkSize - pendingBytes, chunk.length - off);
        pending.push(chunk.subarray(off, off + take));
        pendingBytes += take;
        off += take;
        if (pendingBytes === chunkSize) {
          const answer = await flush(false);
          if (answer.reply.code !== 250) return answer; // RFC 3030 §3: the transaction is void; caller sends RSET
        }
      }
    }
  } catch (e) {
    throw contentFailure(conn, e);
  }
  return flush(true);
}

function assertSevenBit(chunk: Buffer, offset: number): void {
  const at = chunk.findIndex((b) => b >= 0x80);
  if (at !== -1) throw new EightBitError(offset + at);
}
