import type pg from 'pg';
import type { PrismaClient } from './generated/prisma/client';

/** Where the chunks are read from: Prisma, or a plain pg pool (no per-query compile). */
export type ChunkSource = Pick<PrismaClient, 'messageChunk'> | Pick<pg.Pool, 'query'>;

/** Chunks `from` ≤ seq < `to` of a message, in order. */
async function chunkPage(db: ChunkSource, messageId: string, from: number, to: number): Promise<Buffer[]> {
  if ('query' in db) {
    const { rows } = await db.query<{ data: Buffer }>({
      name: 'db-chunk-page',
      text: 'SELECT data FROM message_chunks WHERE message_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq',
      values: [messageId, from, to],
    });
    return rows.map((r) => r.data);
  }
  const rows = await db.messageChunk.findMany({
    where: { messageId, seq: { gte: from, lt: to } },
    orderBy: { seq: 'asc' },
    select: { data: true },
  });
  return rows.map((row) => Buffer.from(row.data.buffer, row.data.byteOffset, row.data.byteLength));
}

/**
 * A stored message is a sequence of chunks (`message_chunks`, ordered by `seq`). These read it
 * back without ever joining it into one buffer: delivery streams it to the next hop.
 */
export async function* readMessageBody(
  db: ChunkSource,
  messageId: string,
  chunksPerQuery = 8,
): AsyncGenerator<Buffer> {
  for (let from = 0; ; from += chunksPerQuery) {
    const chunks = await chunkPage(db, messageId, from, from + chunksPerQuery);
    yield* chunks;
    if (chunks.length < chunksPerQuery) return;
  }
}

/** The whole message in one buffer, for small consumers (tests, the raw download of the API). */
export async function readMessageBuffer(db: ChunkSource, messageId: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of readMessageBody(db, messageId)) chunks.push(chunk);
  return Buffer.concat(chunks);
}
