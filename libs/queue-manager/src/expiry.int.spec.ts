import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@mta/observability';
import { Registry } from 'prom-client';
import { QueueManager } from './queue-manager';
import { Harness, openHarness, LATER, waitFor } from './testing/harness';

// Tries every 300 ms; a delay notice once the message is 1 s old; expiry after 4 s.
const schedule = {
  firstRetryMs: 300,
  multiplier: 1,
  maxIntervalMs: 300,
  jitter: 0,
  expireAfterMs: 4000,
  delayWarningAfterMs: 1000,
};

let h: Harness;
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ h, close } = await openHarness({ schedule, reconcileIntervalMs: 0 }));
});
afterAll(() => close?.());

describe('expiry and delay notices', () => {
  it('warns once about the delay, then expires with 4.4.7 and the last remote reply in one DSN', async () => {
    const busy = Array.from({ length: 50 }, () => LATER);
    h.fake.answer('busy@slow.example', ...busy);
    h.fake.answer('quiet@slow.example', ...busy);
    const m = await h.store({
      sender: 'frank@example.org',
      envid: 'ENV-EXP',
      recipients: [{ address: 'busy@slow.example' }, { address: 'quiet@slow.example', notify: ['FAILURE'] }],
    });
    await waitFor(
      async () => (await h.db.message.findUniqueOrThrow({ where: { id: m.id } })).state === 'done',
      20_000,
      'done',
    );

    const tries = h.fake.deliveries.filter((d) => d.addresses.includes('busy@slow.example'));
    expect(tries.length).toBeGreaterThanOrEqual(3);
    // never retried past the deadline: the last try is scheduled at the expiry (4 s after receipt), no later
    const received = (await h.db.message.findUniqueOrThrow({ where: { id: m.id } })).receivedAt.getTime();
    expect((tries.at(-1)?.at ?? Infinity) - received).toBeLessThan(4000 + 1500);

    const dsns = await h.dsnsTo('frank@example.org');
    expect(dsns).toHaveLength(2);
    const [notice, bounce] = dsns;
    const noticeStatus = notice.parsed.attachments[0].content.toString('utf8');
    expect(noticeStatus).toContain('Action: delayed');
    expect(noticeStatus).toContain('Final-Recipient: rfc822; busy@slow.example');
    expect(noticeStatus).not.toContain('quiet@slow.example'); // NOTIFY=FAILURE: no delay notice
    expect(noticeStatus).toContain('Will-Retry-Until:');
    expect(notice.parsed.attachments.map((a) => a.contentType)).toEqual([
      'message/delivery-status',
      'text/rfc822-headers',
    ]);
    expect(await h.db.event.count({ where: { messageId: m.id, type: 'delayed' } })).toBe(1);
    expect((await h.recipient(m.rcpt['busy@slow.example'])).delayNotifiedAt).not.toBeNull();

    const status = bounce.parsed.attachments[0].content.toString('utf8');
    expect(status).toContain('Original-Envelope-Id: ENV-EXP');
    expect(status.match(/Action: failed/g)).toHaveLength(2);
    expect(status).toContain('Status: 4.4.7');
    expect(status).toContain('Diagnostic-Code: smtp; 450 4.2.1 Mailbox busy, try later');
    expect(bounce.parsed.text).toContain('gave up');
    for (const id of Object.values(m.rcpt)) {
      expect(await h.recipient(id)).toMatchObject({ status: 'bounced', lastReplyCode: 450 });
    }
    const expired = await h.db.event.findMany({ where: { messageId: m.id, type: 'expired' } });
    expect(expired).toHaveLength(2);
    expect(expired[0].detail).toMatchObject({ reason: '4.4.7 message expired', replyCode: 450 });
  });

  it('a deferral applied just before the deadline, dispatched just after it, expires and bounces at once', async () => {
    const received = Date.now() - 60_000;
    const m = await h.store({
      sender: 'gail@example.org',
      recipients: [{ address: 'edge@slow.example' }],
      enqueue: false,
      receivedAt: new Date(received),
    });
    await h.db.message.update({ where: { id: m.id }, data: { state: 'queued' } });
    // The first reading of the clock (applying the outcome) is 1 ms before the expiry, every later
    // one (dispatching the retry) 1 ms after it.
    let reads = 0;
    const clock = () => new Date(received + (reads++ === 0 ? 3999 : 4001));
    const qm = new QueueManager(
      {
        db: h.db,
        pool: h.pool,
        producer: h.producer,
        redis: h.redis,
        workerConnection: h.workerConnection,
        prefix: h.prefix,
        logger: createLogger('queue-test', 'silent'),
        registry: new Registry(),
        hostname: 'mta.test',
      },
      { schedule, clock },
    );
    const result = await qm.applier.apply({
      messageId: m.id,
      route: 'remote',
      destination: 'slow.example',
      attempt: 1,
      results: [
        {
          recipientId: m.rcpt['edge@slow.example'],
          kind: 'deferred',
          code: 451,
          enhanced: '4.4.1',
          text: 'no answer',
        },
      ],
    });
    expect(result).toMatchObject({ applied: 1, deferred: 1 });
    expect(await h.recipient(m.rcpt['edge@slow.example'])).toMatchObject({
      status: 'bounced',
      lastReplyCode: 451,
    });
    expect((await h.db.message.findUniqueOrThrow({ where: { id: m.id } })).state).toBe('done');
    const [dsn] = await h.dsnsTo('gail@example.org');
    expect(dsn.parsed.attachments[0].content.toString('utf8')).toContain('Status: 4.4.7');
  });
});
