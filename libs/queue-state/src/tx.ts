/**
 * Interactive transaction limits: more generous than Prisma's defaults (2 s to get a connection,
 * 5 s to finish), so a busy database slows the queue down instead of failing its jobs.
 */
export const TX = { maxWait: 10_000, timeout: 30_000 } as const;
