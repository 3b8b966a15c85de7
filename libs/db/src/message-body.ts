import type { PrismaClient } from './generated/prisma/client';

/**
 * A stored message is a sequence of chunks (`message_chunks`, ordered by `seq`). These read it
 * back without ever joining it into one buffer: delivery streams it to the next hop.
 */
export async function* readMessageBody(
  db: Pick<PrismaClient, 'messageChunk'>,
  messageId: string,
  chunksPerQuery = 8,
): AsyncGenerator<Buffer> {
  for (let from = 0; ; from += chunksPerQuery) {
    const rows = await db.messageChunk.findMany({
      where: { messageId, seq: { gte: from, lt: from + chunksPerQuery } },
      orderBy: { seq: 'asc' },
      select: { data: true },
    });
    for (const row of rows) yield Buffer.from(row.data.buffer, row.data.byteOffset, row.data.byteLength);
    if (rows.length < chunksPerQuery) return;
  }
}

/** The whole message in one buffer, for small consumers (tests, the raw download of the API). */
export async function readMessageBuffer(
  db: Pick<PrismaClient, 'messageChunk'>,
  messageId: string,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of readMessageBody(db, messageId)) chunks.push(chunk);
  return Buffer.concat(chunks);
}
