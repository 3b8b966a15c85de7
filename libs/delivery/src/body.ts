/**
 * Body sources: a stored message (PostgreSQL chunks, streamed), or a buffer (tests, small
 * messages). Each call of a `BodySource` starts from the beginning.
 */
import { Readable } from 'node:stream';
import { readMessageBody, type ChunkSource } from '@mta/db';
import { headerHasNonAscii } from '@mta/smtp-client';
import type { BodySource } from './contract';

/** The stored message `messageId`, read chunk by chunk on every call (`message_chunks`). */
export function bodyFromDatabase(db: ChunkSource, messageId: string): BodySource {
  return () => readMessageBody(db, messageId);
}

export function bodyFromBuffer(body: Buffer): BodySource {
  return () => Readable.from([body]);
}

/** The source as a Node stream, for the SMTP client and the file writer. */
export function openBody(source: BodySource): Readable {
  const body = source();
  return body instanceof Readable ? body : Readable.from(body, { objectMode: false });
}

/**
 * Whether the header block of the message holds non-ASCII (RFC 6532): reads the source only
 * up to the end of the header (the first empty line), then stops it. A SMTPUTF8 message whose
 * addresses and header are ASCII can go to a next hop without SMTPUTF8 (RFC 6531 §3.4).
 * A source that cannot be read answers true: the message is then treated as needing SMTPUTF8,
 * and the delivery reads (and reports) the same failure when it sends the body.
 */
export async function headerNeedsUtf8(source: BodySource): Promise<boolean> {
  const seen: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of source()) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      seen.push(buf);
      length += buf.length;
      // The empty line may straddle chunks: look from 3 octets before this chunk.
      const all = seen.length === 1 ? buf : Buffer.concat(seen, length);
      if (
        all.subarray(0, 2).equals(CRLF) ||
        all.indexOf(EMPTY_LINE, Math.max(0, length - buf.length - 3)) !== -1
      )
        return headerHasNonAscii(all); // leaving the loop stops the stream
      if (seen.length > 1) seen.splice(0, seen.length, all);
    }
    return headerHasNonAscii(Buffer.concat(seen, length));
  } catch {
    return true;
  }
}

const CRLF = Buffer.from('\r\n');
const EMPTY_LINE = Buffer.from('\r\n\r\n');
