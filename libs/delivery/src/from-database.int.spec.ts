/**
 * From PostgreSQL to the next hop: a stored message (body in several `message_chunks`, split
 * inside a CRLF and before a dot line) is loaded with `loadDeliveryRequest` and delivered by the
 * remote agent to smtp-sink (through the fake DNS) and by the Maildir agent; both hold the same
 * bytes as were stored (SHA-256, LF line endings).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgPool, createPrismaClient, newQueueId, type PrismaClient } from '@mta/db';
import type pg from 'pg';
import { MxResolver } from '@mta/dns';
import {
  aRecord,
  createTestDatabase,
  mxRecord,
  startFakeDns,
  type TestDatabase,
  requirePeer,
} from '@mta/testing';
import { MaildirDeliveryAgent } from './local/maildir-agent';
import { RemoteDeliveryAgent } from './remote/remote-agent';
import {
  INLINE_BODY_BYTES,
  RequestLoader,
  loadDeliveryRequest,
  loadDeliveryRequests,
} from './request-loader';
import { asLf, message, sha256 } from './test/fixtures';
import { haveSmtpSink, portFreeOn, startSink } from './test/peers';

describe.skipIf(!requirePeer('smtp-sink', haveSmtpSink()))('delivering a stored message', () => {
  let database: TestDatabase;
  let db: PrismaClient;
  let pool: pg.Pool;
  const body = message('stored', 'line one\r\n.dot line\r\n' + 'x'.repeat(70_000) + '\r\nend\r\n');
  let messageId: string;
  let recipientIds: string[];

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createPrismaClient(database.url);
    pool = createPgPool(database.url);
    const cuts = [0, body.indexOf('\r\n') + 1, body.indexOf('.dot'), 40_000, body.length];
    const created = await db.message.create({
      data: {
        queueId: newQueueId(),
        sender: 'sender@example.org',
        source: 'submission',
        size: body.length,
        dsnRet: 'HDRS',
        dsnEnvid: 'env-1',
        chunks: {
          create: cuts
            .slice(1)
            .map((end, seq) => ({ seq, data: Uint8Array.from(body.subarray(cuts[seq], end)) })),
        },
        recipients: {
          create: [
            {
              address: 'a@stored.test',
              domain: 'stored.test',
              dsnNotify: ['FAILURE', 'DELAY'],
              dsnOrcpt: 'rfc822;a+2Bx@stored.test',
            },
            { address: 'b@stored.test', domain: 'stored.test' },
          ],
        },
      },
      include: { recipients: { orderBy: { address: 'asc' } } },
    });
    messageId = created.id;
    recipientIds = created.recipients.map((r) => r.id);
  });
  afterAll(async () => {
    await db?.$disconnect();
    await pool?.end();
    await database?.drop();
  });

  it('loads the envelope, the recipients in job order and a re-readable body', async () => {
    const load = await loadDeliveryRequest(pool, { messageId, recipientIds: [...recipientIds].reverse() });
    if (!load.ok) throw new Error(load.reason);
    const { request } = load;
    expect(request.envelope).toEqual({
      sender: 'sender@example.org',
      smtpUtf8: false,
      eightBitMime: false,
      dsn: { ret: 'HDRS', envid: 'env-1' },
    });
    expect(request.recipients.map((r) => r.address)).toEqual(['b@stored.test', 'a@stored.test']);
    expect(request.recipients[1]).toMatchObject({ notify: ['FAILURE', 'DELAY'], orcpt: 'a+x@stored.test' });
    for (let i = 0; i < 2; i++) {
      const chunks: Buffer[] = [];
      for await (const c of request.body()) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).equals(body)).toBe(true);
    }
    expect(request.quarantine).toBeUndefined();
    expect(
      await loadDeliveryRequest(pool, { messageId: '00000000-0000-4000-8000-000000000000', recipientIds }),
    ).toMatchObject({ ok: false });
  });

  it('loads the REQUIRETLS flag (RFC 8689) with the envelope', async () => {
    const flagged = await db.message.create({
      data: {
        queueId: newQueueId(),
        sender: 'secret@stored.test',
        source: 'submission',
        size: body.length,
        requireTls: true,
        chunks: { create: [{ seq: 0, data: Uint8Array.from(body) }] },
        recipients: { create: [{ address: 'd@remote.test', domain: 'remote.test', route: 'remote' }] },
      },
      include: { recipients: true },
    });
    const load = await loadDeliveryRequest(pool, {
      messageId: flagged.id,
      recipientIds: flagged.recipients.map((r) => r.id),
    });
    if (!load.ok) throw new Error(load.reason);
    expect(load.request.envelope.requireTls).toBe(true);
  });

  it('loads the quarantine mark of the inbound policy, and the Maildir agent files that message in Junk', async () => {
    const quarantined = await db.message.create({
      data: {
        queueId: newQueueId(),
        sender: 'news@shop.test',
        source: 'mx',
        size: body.length,
        quarantine: true,
        chunks: { create: [{ seq: 0, data: Uint8Array.from(body) }] },
        recipients: { create: [{ address: 'c@stored.test', domain: 'stored.test', route: 'local' }] },
      },
      include: { recipients: true },
    });
    const load = await loadDeliveryRequest(pool, {
      messageId: quarantined.id,
      recipientIds: quarantined.recipients.map((r) => r.id),
    });
    if (!load.ok) throw new Error(load.reason);
    expect(load.request.quarantine).toBe(true);
    const root = mkdtempSync(path.join(tmpdir(), 'junk-'));
    try {
      await new MaildirDeliveryAgent({ root }).deliver(load.request);
      const junk = path.join(root, 'stored.test', 'c', 'Maildir', '.Junk', 'new');
      const [file] = readdirSync(junk);
      expect(sha256(readFileSync(path.join(junk, file), 'latin1'))).toBe(
        sha256('Return-Path: <news@shop.test>\nDelivered-To: c@stored.test\n' + asLf(body)),
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('loads a batch of jobs in one query, each with its own recipients, in the order given', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const loads = await loadDeliveryRequests(pool, [
      { messageId, recipientIds: [recipientIds[1]] },
      { messageId: missing, recipientIds },
      { messageId, recipientIds: [recipientIds[0]], attempt: 1, route: 'remote' },
      { messageId, recipientIds: [] },
    ]);
    expect(loads.map((l) => (l.ok ? l.request.recipients.map((r) => r.address) : l.reason))).toEqual([
      ['b@stored.test'],
      `message ${missing} does not exist`,
      'message received', // a job's attempt counts only for a queued message
      `no recipient of the job exists for ${messageId}`,
    ]);
    // Many jobs starting at once share queries, and each still gets its own answer.
    const loader = new RequestLoader(pool);
    const together = await Promise.all(
      Array.from({ length: 10 }, (_, i) => loader.load({ messageId, recipientIds: [recipientIds[i % 2]] })),
    );
    expect(together.map((l) => (l.ok ? l.request.recipients[0].address : l.reason))).toEqual(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? 'b@stored.test' : 'a@stored.test')),
    );
  });

  it('streams a message bigger than INLINE_BODY_BYTES chunk by chunk, one just at it comes inline', async () => {
    const stored = async (size: number) => {
      const big = Buffer.alloc(size, 'y');
      const created = await db.message.create({
        data: {
          queueId: newQueueId(),
          sender: 's@example.org',
          source: 'mx',
          size,
          chunks: {
            create: [0, 1, 2].map((seq) => ({
              seq,
              data: Uint8Array.from(big.subarray((seq * size) / 3, ((seq + 1) * size) / 3)),
            })),
          },
          recipients: { create: [{ address: 'c@stored.test', domain: 'stored.test' }] },
        },
        include: { recipients: true },
      });
      const load = await loadDeliveryRequest(pool, {
        messageId: created.id,
        recipientIds: created.recipients.map((r) => r.id),
      });
      if (!load.ok) throw new Error(load.reason);
      const reads: number[][] = [];
      for (let i = 0; i < 2; i++) {
        const chunks: Buffer[] = [];
        for await (const c of load.request.body()) chunks.push(c as Buffer);
        expect(Buffer.concat(chunks).equals(big)).toBe(true);
        reads.push(chunks.map((c) => c.length));
      }
      return reads[0];
    };
    const over = INLINE_BODY_BYTES + 2; // both sizes divide by 3
    expect(await stored(over)).toEqual([over / 3, over / 3, over / 3]); // from message_chunks, as stored
    expect(await stored(INLINE_BODY_BYTES - 1)).toEqual([INLINE_BODY_BYTES - 1]); // inline, one buffer
  });

  it('delivers it to the MX and to a Maildir with the same bytes', async () => {
    const load = await loadDeliveryRequest(pool, { messageId, recipientIds, destination: 'stored.test' });
    if (!load.ok) throw new Error(load.reason);
    const port = await portFreeOn(['127.0.0.2']);
    const sink = await startSink('127.0.0.2', port);
    const dns = await startFakeDns([
      mxRecord('stored.test', 10, 'mx.stored.test'),
      aRecord('mx.stored.test', '127.0.0.2'),
    ]);
    const remote = new RemoteDeliveryAgent({
      heloName: 'out.example.org',
      resolver: new MxResolver({ servers: dns.servers, cache: false }),
      port,
    });
    const report = await remote.deliver(load.request);
    expect(report.results.map((r) => r.kind)).toEqual(['delivered', 'delivered']);
    const [dump] = sink.dumps();
    expect(sha256(dump.content)).toBe(sha256(asLf(body)));
    await remote.close();
    await sink.stop();
    await dns.close();

    const root = mkdtempSync(path.join(tmpdir(), 'maildir-db-'));
    const local = new MaildirDeliveryAgent({ root });
    const localReport = await local.deliver(load.request);
    expect(localReport.results.map((r) => r.kind)).toEqual(['delivered', 'delivered']);
    const dir = path.join(root, 'stored.test', 'a', 'Maildir', 'new');
    const stored = readFileSync(path.join(dir, readdirSync(dir)[0]), 'latin1');
    expect(sha256(stored.slice(stored.indexOf('\n', stored.indexOf('Delivered-To:')) + 1))).toBe(
      sha256(asLf(body)),
    );
    rmSync(root, { recursive: true, force: true });
  });
});
