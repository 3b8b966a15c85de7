import { createLogger, type Logger } from '@mta/observability';
import type { JobProducer } from '@mta/queue';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { MessageWriter, type IncomingMessage } from './message-writer';

// Unit tests of MessageWriter's order of work with a stand-in pool and producer; the real
// PostgreSQL and Redis are in message-writer.int.spec.ts.

function message(n: number): IncomingMessage {
  return {
    queueId: `Q${n}`,
    source: 'mx',
    sender: 'alice@example.net',
    clientAddress: '192.0.2.7',
    clientHelo: 'mail.example.net',
    authUser: null,
    recipients: [
      { address: 'bob@local.example', domain: 'local.example', route: 'local', notify: [], orcpt: null },
    ],
    dsnRet: null,
    dsnEnvid: null,
    smtpUtf8: false,
    eightBitMime: false,
    header: { messageId: null, from: null, subject: null },
    chunks: [Buffer.from('Subject: x\r\n\r\nbody\r\n')],
    size: 20,
  };
}

/** A pool whose insert returns one row per message of the batch: id `id-<queue id>`. */
const pool = {
  query: async (config: { values: unknown[] }) => ({
    rows: (config.values[0] as string[]).map((q) => ({ id: `id-${q}`, queue_id: q })),
  }),
} as unknown as Pick<pg.Pool, 'query'>;

/** A producer that records each `accepted` job and lets the test decide when it is enqueued. */
function producer() {
  const calls: string[][] = [];
  const pending: (() => void)[] = [];
  const fake = {
    enqueue: (_queue: string, job: { messageIds: string[] }) => {
      calls.push(job.messageIds);
      return new Promise<string>((resolve) => pending.push(() => resolve(`accepted/${job.messageIds[0]}`)));
    },
  } as unknown as JobProducer;
  const release = () => pending.splice(0).forEach((f) => f());
  return { fake, calls, release };
}

const silent = createLogger('test', 'silent');
const immediate = () => new Promise((resolve) => setImmediate(resolve));

describe('MessageWriter and the accepted jobs', () => {
  it('answers before it builds the Redis round trip: the job follows the 250', async () => {
    const p = producer();
    const writer = new MessageWriter(pool, p.fake, silent);
    const stored = await writer.store(message(1));
    expect(stored).toEqual({ id: 'id-Q1', queueId: 'Q1' });
    expect(p.calls).toEqual([]);
    await immediate();
    expect(p.calls).toEqual([['id-Q1']]);
    p.release();
    await writer.drain();
  });

  it('puts the messages of commits that end while a job is on its way into the next job', async () => {
    const p = producer();
    const writer = new MessageWriter(pool, p.fake, silent);
    await writer.store(message(1));
    await immediate();
    expect(p.calls).toEqual([['id-Q1']]);
    // Two more commits while the first job is on its way: they wait for it, then go as one job.
    await writer.store(message(2));
    await writer.store(message(3));
    await immediate();
    expect(p.calls).toEqual([['id-Q1']]);
    p.release();
    await immediate();
    expect(p.calls).toEqual([['id-Q1'], ['id-Q2', 'id-Q3']]);
    p.release();
    await writer.drain();
  });

  it('drain waits for jobs whose round trip has not started yet', async () => {
    const p = producer();
    const writer = new MessageWriter(pool, p.fake, silent);
    await writer.store(message(1));
    let drained = false;
    const draining = writer.drain().then(() => (drained = true));
    await immediate();
    expect(p.calls).toEqual([['id-Q1']]);
    expect(drained).toBe(false);
    p.release();
    await draining;
    expect(drained).toBe(true);
  });

  it('keeps the 250 when Redis refuses the job, and says so once per job', async () => {
    const calls: string[][] = [];
    const refusing = {
      enqueue: async (_queue: string, job: { messageIds: string[] }) => {
        calls.push(job.messageIds);
        throw new Error('redis is not connected (end)');
      },
    } as unknown as JobProducer;
    const warnings: { queueIds: string[]; err: string }[] = [];
    const logger = {
      ...silent,
      warn: (obj: { queueIds: string[]; err: string }) => warnings.push(obj),
    } as unknown as Logger;
    const writer = new MessageWriter(pool, refusing, logger);
    const stored = await Promise.all([1, 2, 3].map((n) => writer.store(message(n))));
    expect(stored.map((s) => s.queueId)).toEqual(['Q1', 'Q2', 'Q3']);
    await writer.drain();
    expect(warnings.flatMap((w) => w.queueIds)).toEqual(['Q1', 'Q2', 'Q3']);
    expect(warnings.map((w) => w.queueIds)).toEqual(calls.map((ids) => ids.map((id) => id.slice(3))));
    expect(warnings.every((w) => w.err === 'redis is not connected (end)')).toBe(true);
  });
});
