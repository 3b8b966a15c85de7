import type { PrismaClient } from '@mta/db';

/**
 * Is outbound delivery to `domain` paused now (`domain_pauses`, no end or an end in the future)?
 * The queue manager never enqueues a paused destination; a delivery worker may call this before
 * sending a job that was scheduled before the pause began, and hand it back deferred.
 */
export async function isDestinationPaused(
  db: Pick<PrismaClient, 'domainPause'>,
  domain: string,
  now: Date = new Date(),
): Promise<boolean> {
  const row = await db.domainPause.findFirst({
    where: { domain: domain.toLowerCase(), OR: [{ pausedUntil: null }, { pausedUntil: { gt: now } }] },
    select: { id: true },
  });
  return row !== null;
}
