/** The generated client on a migrated database: round trips, constraints, readiness. */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Prisma,
  PrismaClient,
  createPgPool,
  createPrismaClient,
  migrateDatabase,
  newQueueId,
  pingDatabase,
  readMessageBody,
  readMessageBuffer,
} from './index';
import { databaseName, freshDatabases } from './spec-helpers';

const freshDatabaseUrl = freshDatabases();

describe('client', () => {
  const url = freshDatabaseUrl();
  let db: PrismaClient;

  beforeAll(async () => {
    await migrateDatabase(url);
    db = createPrismaClient(url);
  });
  afterAll(async () => {
    await db?.$disconnect();
  });

  it('round-trips a message with an 8-bit body byte for byte', async () => {
    // Every byte value, bare CR and LF, NUL, invalid UTF-8, and a line starting with a dot.
    const body = Buffer.concat([
      Buffer.from('Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nMessage-ID: <x@example.org>\r\n\r\n'),
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
      Buffer.from('\r\n.leading dot\r\n\u00e4\u00f6\u00fc \u{1F4E8}\r\n'),
      Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x0d, 0x0a]),
      randomBytes(64 * 1024),
    ]);
    const queueId = newQueueId();
    const message = await db.message.create({
      data: {
        queueId,
        sender: '',
        source: 'mx',
        clientAddress: '2001:db8::25',
        clientHelo: 'mail.example.net',
        size: body.length,
        // Stored in chunks of uneven sizes, as intake writes them.
        chunks: {
          create: [body.subarray(0, 7), body.subarray(7, 40_000), body.subarray(40_000)].map((data, seq) => ({
            seq,
            data,
          })),
        },
        messageIdHeader: '<x@example.org>',
        subject: 'Grüße',
        dsnRet: 'HDRS',
        dsnEnvid: 'QQ314159',
        smtpUtf8: true,
        eightBitMime: true,
        recipients: {
          create: [
            {
              address: 'bob@example.org',
              domain: 'example.org',
              dsnNotify: ['SUCCESS', 'FAILURE'],
              dsnOrcpt: 'rfc822;bob@example.org',
            },
            {
              address: 'ülrich@bücher.example',
              domain: 'bücher.example',
              nextAttemptAt: new Date(Date.now() - 1000),
            },
          ],
        },
        events: { create: { type: 'accepted', queueId, detail: { size: body.length, tls: 'TLSv1.3' } } },
      },
    });
    expect(message.id).toMatch(/^[0-9a-f-]{36}$/);

    const again = await db.message.findUniqueOrThrow({
      where: { queueId },
      include: { recipients: { orderBy: { address: 'asc' } }, events: true },
    });
    const stored = await readMessageBuffer(db, again.id);
    expect(stored.length).toBe(body.length);
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    expect(sha(stored)).toBe(sha(body));
    // Streamed back a chunk at a time, in order, whatever the batch size.
    const streamed: Buffer[] = [];
    for await (const chunk of readMessageBody(db, again.id, 2)) streamed.push(chunk);
    expect(streamed.map((c) => c.length)).toEqual([7, 40_000 - 7, body.length - 40_000]);
    // The same through a plain pg pool (what delivery uses).
    const pool = createPgPool(url);
    try {
      const viaPool: Buffer[] = [];
      for await (const chunk of readMessageBody(pool, again.id, 2)) viaPool.push(chunk);
      expect(Buffer.concat(viaPool).equals(stored)).toBe(true);
      expect(viaPool.map((c) => c.length)).toEqual([7, 40_000 - 7, body.length - 40_000]);
      expect((await readMessageBuffer(pool, again.id)).equals(stored)).toBe(true);
    } finally {
      await pool.end();
    }
    expect(again.sender).toBe('');
    expect(again.subject).toBe('Grüße');
    expect(again.state).toBe('received');
    expect(again.recipients.map((r) => [r.address, r.status, r.attempts])).toEqual([
      ['bob@example.org', 'queued', 0],
      ['ülrich@bücher.example', 'queued', 0],
    ]);
    expect(again.recipients[0]?.dsnNotify).toEqual(['SUCCESS', 'FAILURE']);
    expect(again.events[0]?.detail).toEqual({ size: body.length, tls: 'TLSv1.3' });

    // Deleting the message deletes its chunks.

    // The due scan the queue manager runs.
    const due = await db.recipient.findMany({
      where: { status: { in: ['queued', 'deferred'] }, nextAttemptAt: { lte: new Date() } },
    });
    expect(due.map((r) => r.address)).toEqual(['ülrich@bücher.example']);

    // Deleting a message keeps its events (message reference set to null).
    await db.message.delete({ where: { id: message.id } });
    expect(await db.messageChunk.count({ where: { messageId: message.id } })).toBe(0);
    const events = await db.event.findMany({ where: { queueId } });
    expect(events).toHaveLength(1);
    expect(events[0]?.messageId).toBeNull();
  });

  it('refuses a second domain with the same name', async () => {
    await db.domain.create({ data: { name: 'example.org' } });
    const duplicate = db.domain.create({ data: { name: 'example.org', type: 'relay' } });
    await expect(duplicate).rejects.toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    await expect(duplicate).rejects.toMatchObject({ code: 'P2002' });
    expect(await db.domain.count()).toBe(1);
  });

  it('links accounts, send-as addresses and aliases to domains', async () => {
    const domain = await db.domain.create({ data: { name: 'example.net', acceptAll: true } });
    const alice = await db.account.create({
      data: {
        address: 'alice@example.net',
        passwordHash: '$scrypt$ln=15,r=8,p=1$c2FsdA$aGFzaA',
        domainId: domain.id,
        sendAs: { create: [{ address: 'postmaster@example.net' }, { address: '@example.net' }] },
      },
      include: { sendAs: true },
    });
    expect(alice.sendAs).toHaveLength(2);
    const alias = await db.alias.create({
      data: {
        address: 'team@example.net',
        domainId: domain.id,
        targets: { create: [{ accountId: alice.id }, { address: 'carol@elsewhere.example' }] },
      },
      include: { targets: { include: { account: true } } },
    });
    expect(alias.targets.map((t) => t.account?.address ?? t.address).sort()).toEqual([
      'alice@example.net',
      'carol@elsewhere.example',
    ]);
    // A domain with accounts cannot be deleted by accident.
    await expect(db.domain.delete({ where: { id: domain.id } })).rejects.toMatchObject({ code: 'P2003' });
  });

  it('answers a readiness ping, and reports an unreachable server by its address, not a timeout', async () => {
    await expect(pingDatabase(db, 30_000)).resolves.toBeUndefined();
    const nowhere = createPrismaClient('postgresql://postgres@127.0.0.1:1/mta');
    try {
      // With a deadline far away, the answer can only be the refused connection itself: the
      // ping does not sit out its deadline when the server is known to be unreachable.
      await expect(pingDatabase(nowhere, 60_000)).rejects.toThrow(
        /^postgres is not reachable: .*127\.0\.0\.1:1/,
      );
    } finally {
      await nowhere.$disconnect();
    }
  });

  it('times the ping out when the server does not answer', async () => {
    // A listening socket that never speaks: the connection hangs, the ping must not.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const hung = createPrismaClient(`postgresql://postgres@127.0.0.1:${port}/mta`, {
      pool: { connectionTimeoutMillis: 500 },
    });
    try {
      await expect(pingDatabase(hung, 300)).rejects.toThrow('postgres did not answer within 300 ms');
    } finally {
      await hung.$disconnect();
      silent.close();
    }
  });

  it('reads catalog columns of type name (raw queries)', async () => {
    const [row] = await db.$queryRaw<{ db: string }[]>`SELECT current_database() AS db`;
    expect(row?.db).toBe(databaseName(url));
  });
});
