import type { Message } from '@mta/db';

/** The fields of a message the queue manager works with (never the body). */
export type MessageRef = Pick<Message, 'id' | 'queueId' | 'sender' | 'state' | 'receivedAt'>;

export const MESSAGE_REF = { id: true, queueId: true, sender: true, state: true, receivedAt: true } as const;

/** Recipient statuses that wait for a delivery attempt. */
export const WAITING_STATUSES = ['queued', 'deferred'] as const;

/**
 * Interactive transaction limits: more generous than Prisma's defaults (2 s to get a connection,
 * 5 s to finish), so a busy database slows the queue down instead of failing its jobs.
 */
export const TX = { maxWait: 10_000, timeout: 30_000 } as const;
