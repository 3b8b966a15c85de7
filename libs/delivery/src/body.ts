/**
 * Body sources: a stored message (PostgreSQL chunks, streamed), or a buffer (tests, small
 * messages). Each call of a `BodySource` starts from the beginning.
 */
import { Readable } from 'node:stream';
import { readMessageBody, type ChunkSource } from '@mta/db';
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
