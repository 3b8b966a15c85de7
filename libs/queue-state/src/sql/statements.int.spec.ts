import { createPgPool, createPrismaClient, newQueueId, type PrismaClient, type RecipientStatus } from '@mta/db';
import { createTestDatabase, type TestDatabase } from '@mta/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markDone, markDoneIfAllDelivered, openRecipients } from './finish';
import { loadBlocks, loadMessages as loadBatch } from './load';
import { recordResults, type AppliedResult } from './results';
import { markRouted } from './route';

/** The messages of a batch (the settings that come with them are tested below). */
const loadMessages = async (...args: Parameters<typeof loadBatch>) => (await loadBatch(...args)).messages;

/** A recipient's `deliver` result with a bare 250, or what `over` gives instead. */
const delivered = (
  r: { id: string; status: RecipientStatus; attempts: number },
  over: Partial<AppliedResult> = {},
): AppliedResult => ({
  recipient: r,
  move: 'deliver',
  nextAttemptAt: null,
  code: 250,
  enhanced: '2.0.0',
  text: 'Ok',
  suppress: null,
  eventDetail: {},
  remote: { host: null, address: null, port: null },
  tls: null,
  tlsPolicy: null,
  ...over,
});

describe('the hot-path statements on real PostgreSQL', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let db: PrismaClient;

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = createPgPool(database.url);
    db = createPrismaClient(database.url);
  });
  afterAll(async () => {
    await db.$disconnect();
    await pool.end();
    await database.drop();
  });

  async function message(addresses: string[]) {
    const msg = await db.message.create({
      data: {
        queueId: newQueueId(),
        sender: 'alice@example.net',
        source: 'mx',
        size: 10,
        recipients: {
          create: addresses.map((address) => ({
            address,
            domain: address.split('@')[1],
            route: 'remote' as const,
            dsnNotify: ['FAILURE' as const, 'DELAY' as const],
            dsnOrcpt: `rfc822;${address}`,
          })),
        },
      },
      include: { recipients: { orderBy: { address: 'asc' } } },
    });
    return msg;
  }

  it('loads the message and its recipients as Prisma would, ordered by address, or nothing for a missing id', async () => {
    const msg = await message(['zed@b.example', 'amy@a.example']);
    const loaded = (await loadMessages(pool, [msg.id])).get(msg.id);
    expect(loaded?.msg).toEqual({
      id: msg.id,
      queueId: msg.queueId,
      sender: 'alice@example.net',
      state: 'received',
      receivedAt: msg.receivedAt,
    });
    expect(loaded?.recipients).toEqual(msg.recipients);
    expect(loaded?.recipientTotal).toBe(2);
    const one = (await loadMessages(pool, [msg.id], [msg.recipients[1].id])).get(msg.id);
    expect(one?.recipients.map((r) => r.address)).toEqual(['zed@b.example']);
    expect(one?.recipientTotal).toBe(2);
    expect(await loadMessages(pool, ['00000000-0000-0000-0000-000000000000'])).toEqual(new Map());
  });

  it('loads a batch of messages in one query, each with its own recipients, skipping the missing', async () => {
    const a = await message(['a1@b.example', 'a2@b.example']);
    const b = await message(['b1@b.example']);
    const batch = await loadMessages(pool, [a.id, b.id, '00000000-0000-0000-0000-000000000000']);
    expect([...batch.keys()].sort()).toEqual([a.id, b.id].sort());
    expect(batch.get(a.id)?.recipients).toEqual(a.recipients);
    expect(batch.get(b.id)?.recipients).toEqual(b.recipients);
    const narrowed = await loadMessages(pool, [a.id, b.id], [a.recipients[1].id, b.recipients[0].id]);
    expect(narrowed.get(a.id)?.recipients.map((r) => r.address)).toEqual(['a2@b.example']);
    expect(narrowed.get(b.id)?.recipients.map((r) => r.address)).toEqual(['b1@b.example']);
  });

  it('reads a recipient stored without NOTIFY (a NULL array) as Prisma does: an empty list', async () => {
    const msg = await message([]);
    const bare = await db.recipient.create({
      data: { messageId: msg.id, address: 'n@x.example', domain: 'x.example' },
    });
    expect((await loadMessages(pool, [msg.id])).get(msg.id)?.recipients).toEqual([bare]);
    expect(bare.dsnNotify).toEqual([]);
    expect(await openRecipients(pool, msg.id)).toEqual([{ status: 'queued', dsnNotify: [] }]);
  });

  it('routes once: the second of two replays finds the message no longer received', async () => {
    const msg = await message(['a@x.example', 'b@x.example']);
    const step = {
      messageId: msg.id,
      queueId: msg.queueId,
      routeChanges: [{ id: msg.recipients[0].id, route: 'relay' as const }],
      detail: { destinations: [{ route: 'remote', destination: 'x.example' }] },
    };
    const blocksFor = { addresses: ['a@x.example'], domains: ['x.example'], now: new Date() };
    expect((await markRouted(pool, [step], blocksFor)).won).toEqual(new Set([msg.id]));
    expect((await markRouted(pool, [step], blocksFor)).won).toEqual(new Set());
    const after = await db.message.findUniqueOrThrow({
      where: { id: msg.id },
      include: { recipients: { orderBy: { address: 'asc' } }, events: true },
    });
    expect(after.state).toBe('queued');
    expect(after.recipients.map((r) => r.route)).toEqual(['relay', 'remote']);
    expect(after.events.map((e) => [e.type, e.detail])).toEqual([['routed', step.detail]]);
  });

  it('routes a batch in one statement: each message its own routes and event, a replayed one skipped', async () => {
    const [a, b, done] = [
      await message(['a@x.example']),
      await message(['b@y.example', 'c@y.example']),
      await message(['d@z.example']),
    ];
    await db.message.update({ where: { id: done.id }, data: { state: 'queued' } });
    const step = (m: typeof a, routeChanges: { id: string; route: 'local' | 'relay' }[]) => ({
      messageId: m.id,
      queueId: m.queueId,
      routeChanges,
      detail: { of: m.queueId },
    });
    const { won } = await markRouted(
      pool,
      [
        step(a, [{ id: a.recipients[0].id, route: 'local' }]),
        step(b, [{ id: b.recipients[1].id, route: 'relay' }]),
        step(done, [{ id: done.recipients[0].id, route: 'local' }]),
      ],
      { addresses: [], domains: [], now: new Date() },
    );
    expect(won).toEqual(new Set([a.id, b.id]));
    const rows = await db.recipient.findMany({
      where: { messageId: { in: [a.id, b.id, done.id] } },
      orderBy: { address: 'asc' },
    });
    expect(rows.map((r) => [r.address, r.route])).toEqual([
      ['a@x.example', 'local'],
      ['b@y.example', 'remote'],
      ['c@y.example', 'relay'],
      ['d@z.example', 'remote'], // its message was not received any more: untouched
    ]);
    const events = await db.event.findMany({ where: { messageId: { in: [a.id, b.id, done.id] } } });
    expect(events.map((e) => [e.messageId, e.queueId, e.detail]).sort()).toEqual(
      [
        [a.id, a.queueId, { of: a.queueId }],
        [b.id, b.queueId, { of: b.queueId }],
      ].sort(),
    );
  });

  it('records results once: a replayed outcome updates nothing and writes no second attempt', async () => {
    const msg = await message(['ok@y.example', 'later@y.example']);
    const [later, ok] = msg.recipients;
    const now = new Date('2026-11-26T12:00:00.000Z');
    const next = new Date('2026-11-26T12:05:00.000Z');
    const results: AppliedResult[] = [
      delivered(ok, {
        eventDetail: { replyCode: 250 },
        remote: { host: 'mx.y.example', address: '127.0.0.9', port: 2525 },
        tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', verified: false },
        tlsPolicy: 'opportunistic',
      }),
      {
        recipient: later,
        move: 'defer',
        nextAttemptAt: next,
        code: 450,
        enhanced: '4.2.0',
        text: 'It\'s "busy"; try later',
        suppress: null,
        eventDetail: { replyCode: 450, note: 'quotes " and \\ survive' },
        remote: { host: null, address: null, port: null },
        tls: null,
        tlsPolicy: 'mta-sts',
      },
    ];
    const step = { messageId: msg.id, queueId: msg.queueId, attempt: 1, recipientTotal: 2, results };
    expect(await recordResults(pool, now, [step])).toEqual({ updated: new Set([ok.id, later.id]), finished: new Set() });
    expect(await recordResults(pool, now, [step])).toEqual({ updated: new Set(), finished: new Set() });

    const rows = await db.recipient.findMany({ where: { messageId: msg.id }, orderBy: { address: 'asc' } });
    expect(
      rows.map((r) => [r.status, r.attempts, r.nextAttemptAt, r.lastReplyCode, r.lastReplyText]),
    ).toEqual([
      ['deferred', 1, next, 450, 'It\'s "busy"; try later'],
      ['delivered', 1, null, 250, 'Ok'],
    ]);
    const attempts = await db.deliveryAttempt.findMany({
      where: { messageId: msg.id },
      orderBy: { replyCode: 'asc' },
    });
    expect(
      attempts.map((a) => [
        a.replyCode,
        a.mxHost,
        a.ip,
        a.port,
        a.tlsVersion,
        a.tlsVerified,
        a.tlsPolicy,
        a.startedAt,
      ]),
    ).toEqual([
      [250, 'mx.y.example', '127.0.0.9', 2525, 'TLSv1.3', false, 'opportunistic', now],
      [450, null, null, null, null, null, 'mta-sts', now],
    ]);
    const events = await db.event.findMany({ where: { messageId: msg.id }, orderBy: { type: 'asc' } });
    expect(events.map((e) => [e.type, e.recipientId, e.queueId, e.detail])).toEqual([
      ['deferred', later.id, msg.queueId, { replyCode: 450, note: 'quotes " and \\ survive' }],
      ['delivered', ok.id, msg.queueId, { replyCode: 250 }],
    ]);
    expect(await openRecipients(pool, msg.id)).toEqual([
      { status: 'deferred', dsnNotify: ['FAILURE', 'DELAY'] },
    ]);
  });

  it('marks done with the results exactly the queued messages whose every recipient the commit delivers', async () => {
    // all: both recipients delivered here, from two outcomes of one batch; part: one of two;
    // held: every recipient delivered, but an operator held the message.
    const [all, part, held] = [
      await message(['a1@f.example', 'a2@f.example']),
      await message(['p1@f.example', 'p2@f.example']),
      await message(['h1@f.example']),
    ];
    await db.message.updateMany({ where: { id: { in: [all.id, part.id] } }, data: { state: 'queued' } });
    await db.message.update({ where: { id: held.id }, data: { state: 'held' } });
    const step = (msg: typeof all, results: AppliedResult[]) => ({
      messageId: msg.id,
      queueId: msg.queueId,
      attempt: 1,
      recipientTotal: msg.recipients.length,
      results,
    });
    const recorded = await recordResults(pool, new Date(), [
      step(all, [delivered(all.recipients[0])]),
      step(all, [delivered(all.recipients[1])]),
      step(part, [delivered(part.recipients[0])]),
      step(held, [delivered(held.recipients[0])]),
    ]);
    expect(recorded.updated.size).toBe(4);
    expect(recorded.finished).toEqual(new Set([all.id]));
    const states = await db.message.findMany({ where: { id: { in: [all.id, part.id, held.id] } } });
    expect(new Map(states.map((m) => [m.id, m.state]))).toEqual(
      new Map([
        [all.id, 'done'],
        [part.id, 'queued'],
        [held.id, 'held'],
      ]),
    );
    // A replay delivers nothing, so it finishes nothing either.
    const again = await recordResults(pool, new Date(), [step(part, [delivered(part.recipients[0])])]);
    expect(again).toEqual({ updated: new Set(), finished: new Set() });
  });

  it('marks a message done in one statement only when every recipient is delivered or bounced', async () => {
    const msg = await message(['d1@z.example', 'd2@z.example']);
    await db.message.update({ where: { id: msg.id }, data: { state: 'queued' } });
    await db.recipient.update({ where: { id: msg.recipients[0].id }, data: { status: 'delivered' } });
    expect(await markDoneIfAllDelivered(pool, [msg.id])).toEqual(new Set());
    await db.recipient.update({ where: { id: msg.recipients[1].id }, data: { status: 'bounced' } });
    expect(await markDoneIfAllDelivered(pool, [msg.id])).toEqual(new Set([msg.id]));
    expect(await markDoneIfAllDelivered(pool, [msg.id])).toEqual(new Set());
    expect((await db.message.findUniqueOrThrow({ where: { id: msg.id } })).state).toBe('done');
  });

  it('marks done, in one statement for a batch, exactly the messages whose recipients are all final', async () => {
    const [all, open] = [await message(['e1@z.example']), await message(['e2@z.example', 'e3@z.example'])];
    await db.message.updateMany({ where: { id: { in: [all.id, open.id] } }, data: { state: 'queued' } });
    await db.recipient.updateMany({
      where: { id: { in: [all.recipients[0].id, open.recipients[0].id] } },
      data: { status: 'delivered' },
    });
    expect(await markDoneIfAllDelivered(pool, [all.id, open.id])).toEqual(new Set([all.id]));
  });

  it('marks a message done only from queued', async () => {
    const msg = await message(['c@z.example']);
    expect(await markDone(pool, msg.id)).toBe(false); // still received
    await db.message.update({ where: { id: msg.id }, data: { state: 'queued' } });
    expect(await markDone(pool, msg.id)).toBe(true);
    expect(await markDone(pool, msg.id)).toBe(false);
  });

  it('finds suppressions (any case, not expired) and pauses (open-ended or not over)', async () => {
    const now = new Date();
    const hour = 3600_000;
    await db.suppression.createMany({
      data: [
        { address: 'Gone@Q.example', reason: 'hard bounce' },
        { address: 'old@q.example', reason: 'expired', expiresAt: new Date(now.getTime() - hour) },
      ],
    });
    await db.domainPause.createMany({
      data: [
        { domain: 'paused.example' },
        { domain: 'later.example', pausedUntil: new Date(now.getTime() + hour) },
        { domain: 'over.example', pausedUntil: new Date(now.getTime() - hour) },
      ],
    });
    const blocks = await loadBlocks(pool, {
      addresses: ['Gone@Q.example', 'gone@q.example', 'old@q.example', 'fine@q.example'],
      domains: ['paused.example', 'later.example', 'over.example', 'q.example'],
      now,
    });
    expect(blocks.suppressions).toEqual(new Map([['gone@q.example', 'hard bounce']]));
    expect([...blocks.pauses.keys()].sort()).toEqual(['later.example', 'paused.example']);
    expect(blocks.pauses.get('paused.example')).toBeNull();
    expect(blocks.pauses.get('later.example')?.getTime()).toBe(now.getTime() + hour);
    // The router gets the same answer with its commit.
    const msg = await message(['Gone@Q.example']);
    const routed = await markRouted(
      pool,
      [{ messageId: msg.id, queueId: msg.queueId, routeChanges: [], detail: {} }],
      {
        addresses: ['Gone@Q.example', 'gone@q.example'],
        domains: ['paused.example'],
        now,
      },
    );
    expect(routed.blocks.suppressions).toEqual(new Map([['gone@q.example', 'hard bounce']]));
    expect([...routed.blocks.pauses.keys()]).toEqual(['paused.example']);
  });

  it('puts a hard bounce on the suppression list with the statement: lower case, reason, queue id; an entry there stays', async () => {
    const msg = await message(['Gone@S.example', 'kept@s.example']);
    await db.suppression.create({ data: { address: 'kept@s.example', reason: 'manual' } });
    const fail = (r: (typeof msg.recipients)[number]): AppliedResult => ({
      recipient: r,
      move: 'fail',
      nextAttemptAt: null,
      code: 550,
      enhanced: '5.1.1',
      text: 'no such user',
      suppress: { reason: 'hard bounce: 550 5.1.1 no such user', queueId: msg.queueId },
      eventDetail: {},
      remote: { host: null, address: null, port: null },
      tls: null,
      tlsPolicy: null,
    });
    const step = {
      messageId: msg.id,
      queueId: msg.queueId,
      attempt: 1,
      recipientTotal: 2,
      results: msg.recipients.map(fail),
    };
    expect((await recordResults(pool, new Date(), [step])).updated.size).toBe(2);
    const rows = await db.suppression.findMany({
      where: { address: { in: ['gone@s.example', 'kept@s.example'] } },
      orderBy: { address: 'asc' },
    });
    expect(rows.map((r) => [r.address, r.reason, r.queueId])).toEqual([
      ['gone@s.example', 'hard bounce: 550 5.1.1 no such user', msg.queueId],
      ['kept@s.example', 'manual', null],
    ]);
  });

  it('renews an expired suppression on a hard bounce; a replayed result adds nothing', async () => {
    const msg = await message(['old@t.example']);
    await db.suppression.create({
      data: { address: 'old@t.example', reason: 'expired', expiresAt: new Date(Date.now() - 1000) },
    });
    const step = {
      messageId: msg.id,
      queueId: msg.queueId,
      attempt: 1,
      recipientTotal: 1,
      results: [
        {
          recipient: msg.recipients[0],
          move: 'fail' as const,
          nextAttemptAt: null,
          code: 550,
          enhanced: '5.1.1',
          text: 'gone',
          suppress: { reason: 'hard bounce: 550 5.1.1 gone', queueId: msg.queueId },
          eventDetail: {},
          remote: { host: null, address: null, port: null },
          tls: null,
          tlsPolicy: null,
        },
      ],
    };
    await recordResults(pool, new Date(), [step]);
    expect(await db.suppression.findUniqueOrThrow({ where: { address: 'old@t.example' } })).toMatchObject({
      reason: 'hard bounce: 550 5.1.1 gone',
      queueId: msg.queueId,
      expiresAt: null,
    });
    expect((await recordResults(pool, new Date(), [step])).updated).toEqual(new Set());
  });

  it('reads the suppressHardBounces setting with a batch: false unless set to true', async () => {
    const msg = await message(['s@u.example']);
    expect((await loadBatch(pool, [msg.id])).suppressHardBounces).toBe(false);
    await db.setting.create({ data: { key: 'suppressHardBounces', value: true } });
    expect((await loadBatch(pool, [msg.id])).suppressHardBounces).toBe(true);
    await db.setting.update({ where: { key: 'suppressHardBounces' }, data: { value: 'yes' } });
    expect((await loadBatch(pool, [msg.id])).suppressHardBounces).toBe(false);
    await db.setting.delete({ where: { key: 'suppressHardBounces' } });
  });
});
