import { QueueName } from '@mta/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_SCHEDULE, Harness, openHarness, LATER, NO_SUCH_USER, waitFor } from './testing/harness';

const schedule = FAST_SCHEDULE;

let h: Harness;
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ h, close } = await openHarness({ schedule, reconcileIntervalMs: 0 }, (x) =>
    x.db.domain.create({ data: { name: 'example.net', type: 'local' } }),
  ));
});
afterAll(() => close?.());

const done = async (id: string) => (await h.db.message.findUniqueOrThrow({ where: { id } })).state === 'done';

/** Waits until the `accepted` job of a message has run to its end (the router is done with it). */
const routerDone = (messageId: string) =>
  waitFor(
    async () => (await h.producer.queue(QueueName.Accepted).getJob(`accepted/${messageId}`))?.isCompleted(),
    10_000,
    'accepted job completed',
  );

/** Whether any delivery job in Redis (whatever its state) names this recipient. */
const jobNames = async (recipientId: string) =>
  (
    await h.producer
      .queue(QueueName.Delivery)
      .getJobs(['wait', 'delayed', 'active', 'prioritized', 'completed', 'failed'])
  ).some((j) => j?.data?.recipientIds?.includes(recipientId));

describe('routing', () => {
  it('splits recipients by route and destination, one delivery job each, and records the plan', async () => {
    const m = await h.store({
      recipients: [
        { address: 'a@one.example' },
        { address: 'b@one.example' },
        { address: 'c@two.example' },
        { address: 'd@example.net', route: 'local' },
        { address: 'e@backup.example', route: 'relay' },
      ],
    });
    await waitFor(() => done(m.id), 10_000, 'message done');
    const jobs = h.fake.deliveries.filter((d) => d.addresses.some((a) => m.rcpt[a]));
    expect(jobs.map((j) => `${j.route} ${j.destination} ${j.addresses.join(',')}`).sort()).toEqual([
      'local local d@example.net',
      'relay backup.example e@backup.example',
      'remote one.example a@one.example,b@one.example',
      'remote two.example c@two.example',
    ]);
    expect(jobs.every((j) => j.attempt === 1)).toBe(true);
    const routed = await h.db.event.findMany({ where: { messageId: m.id, type: 'routed' } });
    expect(routed).toHaveLength(1);
    for (const id of Object.values(m.rcpt)) expect((await h.recipient(id)).status).toBe('delivered');
    const attempts = await h.db.deliveryAttempt.findMany({ where: { messageId: m.id } });
    expect(attempts).toHaveLength(5);
    expect(attempts.every((a) => a.replyCode === 250 && a.mxHost?.startsWith('mx.'))).toBe(true);
    expect(await h.db.event.count({ where: { messageId: m.id, type: 'delivered' } })).toBe(5);
  });

  it('a replayed accepted job neither re-routes nor delivers again', async () => {
    const m = await h.store({ recipients: [{ address: 'replay@one.example' }] });
    await waitFor(() => done(m.id), 10_000, 'message done');
    await h.producer.queue(QueueName.Accepted).remove(`accepted/${m.id}`);
    await h.producer.enqueue(QueueName.Accepted, { messageIds: [m.id] });
    expect(await h.qm.router.route(m.id)).toEqual({ routed: false, reason: 'not-received' });
    await routerDone(m.id); // the replayed job ran: it had nothing to route
    expect(
      await h.producer.queue(QueueName.Delivery).getJob(`delivery/${m.id}/remote/one.example/2`),
    ).toBeUndefined();
    expect(h.fake.count('replay@one.example')).toBe(1);
    expect(await h.db.event.count({ where: { messageId: m.id, type: 'routed' } })).toBe(1);
  });
});

describe('outcomes', () => {
  it('450 defers, retries after the schedule, then delivers', async () => {
    h.fake.answer('slow@three.example', LATER, LATER);
    const m = await h.store({ recipients: [{ address: 'slow@three.example' }] });
    await waitFor(() => done(m.id), 10_000, 'message done');
    const tries = h.fake.deliveries.filter((d) => d.addresses.includes('slow@three.example'));
    expect(tries.map((t) => t.attempt)).toEqual([1, 2, 3]);
    // 300 ms then 600 ms (no jitter in this schedule), measured loosely
    expect(tries[1].at - tries[0].at).toBeGreaterThanOrEqual(250);
    expect(tries[2].at - tries[1].at).toBeGreaterThanOrEqual(500);
    const r = await h.recipient(m.rcpt['slow@three.example']);
    expect(r).toMatchObject({ status: 'delivered', attempts: 3, lastReplyCode: 250 });
    const deferred = await h.db.event.findMany({ where: { recipientId: r.id, type: 'deferred' } });
    expect(deferred).toHaveLength(2);
    expect(deferred[0].detail).toMatchObject({ replyCode: 450, enhancedCode: '4.2.1' });
    expect(
      await h.dsnsTo('alice@example.net').then((d) => d.filter((x) => x.raw.includes(m.queueId))),
    ).toHaveLength(0);
  });

  it('partial: only the deferred recipient is retried', async () => {
    h.fake.answer('later@four.example', LATER);
    const m = await h.store({
      recipients: [{ address: 'now@four.example' }, { address: 'later@four.example' }],
    });
    await waitFor(() => done(m.id), 10_000, 'message done');
    expect(h.fake.count('now@four.example')).toBe(1);
    expect(h.fake.count('later@four.example')).toBe(2);
    const retry = h.fake.deliveries.find(
      (d) => d.addresses.includes('later@four.example') && d.attempt === 2,
    );
    expect(retry?.addresses).toEqual(['later@four.example']);
  });

  it('550 fails and writes exactly one DSN to the sender with the remote reply (RET=FULL)', async () => {
    h.fake.answer('nobody@five.example', NO_SUCH_USER);
    const m = await h.store({
      sender: 'bob@example.net',
      ret: 'FULL',
      envid: 'ENV-42',
      recipients: [
        { address: 'nobody@five.example', orcpt: 'rfc822;Nobody+2Bx@five.example' },
        { address: 'fine@five.example' },
      ],
    });
    await waitFor(() => done(m.id), 10_000, 'message done');
    expect((await h.recipient(m.rcpt['nobody@five.example'])).status).toBe('bounced');
    expect((await h.recipient(m.rcpt['fine@five.example'])).status).toBe('delivered');
    const dsns = await h.dsnsTo('bob@example.net');
    expect(dsns).toHaveLength(1);
    const [dsn] = dsns;
    expect(dsn.sender).toBe('');
    expect(dsn.route).toBe('local'); // example.net is one of our local domains
    const types = dsn.parsed.attachments.map((a) => a.contentType);
    expect(types).toEqual(['message/delivery-status', 'message/rfc822']);
    const status = dsn.parsed.attachments[0].content.toString('utf8');
    expect(status).toContain('Original-Envelope-Id: ENV-42');
    expect(status).toContain('Final-Recipient: rfc822; nobody@five.example');
    expect(status).toContain('Original-Recipient: rfc822; Nobody+x@five.example');
    expect(status).toContain('Action: failed');
    expect(status).toContain('Status: 5.1.1');
    expect(status).toContain('Diagnostic-Code: smtp; 550 5.1.1 No such user here');
    expect(status).toContain('Remote-MTA: dns; mx.five.example');
    expect(status).not.toContain('fine@five.example');
    expect(dsn.parsed.attachments[1].content.toString('utf8')).toContain(`original body ${m.queueId}`);
    expect(dsn.parsed.text).toContain('No such user here');
    // the DSN goes through the same queue: routed and delivered like any message
    await waitFor(() => done(dsn.id), 10_000, 'DSN done');
    expect(h.fake.count('bob@example.net')).toBe(1);
    expect(await h.db.event.count({ where: { messageId: m.id, type: 'bounced' } })).toBe(1);
  });

  // [case, RET, REQUIRETLS, what the DSN returns, whether the DSN is itself REQUIRETLS]
  const returned: [string, 'FULL' | 'HDRS', boolean, 'headers' | 'full', boolean][] = [
    ['RET=HDRS returns the header block only', 'HDRS', false, 'headers', false],
    [
      'REQUIRETLS (RFC 8689 §5): the header only although RET=FULL asked, and the DSN is REQUIRETLS',
      'FULL',
      true,
      'headers',
      true,
    ],
    [
      'RET=FULL without REQUIRETLS: the whole message, and the DSN asks for nothing',
      'FULL',
      false,
      'full',
      false,
    ],
  ];
  it.each(returned)('%s', async (_, ret, requireTls, back, dsnRequiresTls) => {
    const sender = `ret-${ret}-${requireTls}@example.net`.toLowerCase();
    const rcpt = `gone-${ret}-${requireTls}@six.example`.toLowerCase();
    h.fake.answer(rcpt, NO_SUCH_USER);
    const m = await h.store({ sender, ret, requireTls, recipients: [{ address: rcpt }] });
    await waitFor(() => done(m.id), 10_000, 'message done');
    const [dsn] = await h.dsnsTo(sender);
    expect(dsn.parsed.attachments.map((a) => a.contentType)).toEqual([
      'message/delivery-status',
      back === 'headers' ? 'text/rfc822-headers' : 'message/rfc822',
    ]);
    expect(dsn.raw).toContain(`Message-ID: <${m.queueId}@example.net>`);
    expect(dsn.raw.includes('original body')).toBe(back === 'full');
    const stored = await h.db.message.findUniqueOrThrow({ where: { id: dsn.id } });
    expect(stored.requireTls).toBe(dsnRequiresTls);
  });

  it('never bounces to the null sender <>', async () => {
    h.fake.answer('x@seven.example', NO_SUCH_USER);
    const m = await h.store({ sender: '', recipients: [{ address: 'x@seven.example' }] });
    await waitFor(() => done(m.id), 10_000, 'message done');
    expect((await h.recipient(m.rcpt['x@seven.example'])).status).toBe('failed');
    expect(
      await h.db.message.count({
        where: { source: 'bounce', events: { some: { detail: { path: ['of'], equals: m.queueId } } } },
      }),
    ).toBe(0);
  });

  it('NOTIFY=NEVER never bounces; NOTIFY=SUCCESS alone does not bounce either', async () => {
    h.fake.answer('never@eight.example', NO_SUCH_USER);
    h.fake.answer('success@eight.example', NO_SUCH_USER);
    const m = await h.store({
      sender: 'dave@example.net',
      recipients: [
        { address: 'never@eight.example', notify: ['NEVER'] },
        { address: 'success@eight.example', notify: ['SUCCESS'] },
      ],
    });
    await waitFor(() => done(m.id), 10_000, 'message done');
    expect((await h.recipient(m.rcpt['never@eight.example'])).status).toBe('failed');
    expect(await h.dsnsTo('dave@example.net')).toHaveLength(0);
  });
});

describe('hold, pause, suppression', () => {
  it('a held recipient is not delivered until released', async () => {
    const m = await h.store({
      recipients: [{ address: 'held@nine.example', held: true }, { address: 'free@nine.example' }],
    });
    await waitFor(() => h.fake.count('free@nine.example') === 1, 10_000, 'free delivered');
    // The router enqueued the message's jobs together: the free one ran, and none names the held one.
    expect(await jobNames(m.rcpt['held@nine.example'])).toBe(false);
    expect(h.fake.count('held@nine.example')).toBe(0);
    expect((await h.recipient(m.rcpt['held@nine.example'])).status).toBe('held');
    expect(await done(m.id)).toBe(false);
    // release (what the admin API does): queued and due; the reconciler picks it up
    await h.db.recipient.update({
      where: { id: m.rcpt['held@nine.example'] },
      data: { status: 'queued', nextAttemptAt: new Date() },
    });
    await h.qm.reconcileNow();
    await waitFor(() => done(m.id), 10_000, 'message done');
    expect(h.fake.count('held@nine.example')).toBe(1);
  });

  it('a held message is not routed', async () => {
    const m = await h.store({ state: 'held', recipients: [{ address: 'hm@nine.example' }] });
    await routerDone(m.id);
    expect(await jobNames(m.rcpt['hm@nine.example'])).toBe(false);
    expect(h.fake.count('hm@nine.example')).toBe(0);
    expect((await h.db.message.findUniqueOrThrow({ where: { id: m.id } })).state).toBe('held');
  });

  it('a paused destination gets no job until the pause ends', async () => {
    await h.db.domainPause.create({
      data: { domain: 'paused.example', pausedUntil: new Date(Date.now() + 60_000) },
    });
    const m = await h.store({ recipients: [{ address: 'p@paused.example' }, { address: 'q@ten.example' }] });
    await waitFor(() => h.fake.count('q@ten.example') === 1, 10_000, 'unpaused delivered');
    // The dispatcher put the paused one off (its next attempt moved), and gave it no job.
    await waitFor(
      async () =>
        ((await h.recipient(m.rcpt['p@paused.example'])).nextAttemptAt?.getTime() ?? 0) > Date.now(),
      10_000,
      'paused recipient put off',
    );
    const r = await h.recipient(m.rcpt['p@paused.example']);
    expect(r.status).toBe('queued');
    expect(await jobNames(r.id)).toBe(false);
    expect(h.fake.count('p@paused.example')).toBe(0);
    await h.db.domainPause.deleteMany({ where: { domain: 'paused.example' } });
    await h.db.recipient.update({ where: { id: r.id }, data: { nextAttemptAt: new Date() } });
    await h.qm.reconcileNow();
    await waitFor(() => done(m.id), 10_000, 'message done');
    expect(h.fake.count('p@paused.example')).toBe(1);
  });

  it('a suppressed recipient fails at once with 550 5.7.1 and bounces', async () => {
    await h.db.suppression.create({
      data: { address: 'blocked@eleven.example', reason: 'hard bounce: 550 5.1.1' },
    });
    await h.db.suppression.create({
      data: { address: 'expired@eleven.example', reason: 'old', expiresAt: new Date(Date.now() - 1000) },
    });
    const m = await h.store({
      sender: 'erin@example.net',
      recipients: [{ address: 'blocked@eleven.example' }, { address: 'expired@eleven.example' }],
    });
    await waitFor(() => done(m.id), 10_000, 'message done');
    expect(h.fake.count('blocked@eleven.example')).toBe(0);
    expect(h.fake.count('expired@eleven.example')).toBe(1);
    expect(await h.recipient(m.rcpt['blocked@eleven.example'])).toMatchObject({
      status: 'bounced',
      lastReplyCode: 550,
      lastEnhancedCode: '5.7.1',
    });
    const [dsn] = await h.dsnsTo('erin@example.net');
    expect(dsn.parsed.attachments[0].content.toString('utf8')).toContain('Status: 5.7.1');
  });
});

describe('suppression of hard bounces (suppressHardBounces)', () => {
  const setting = (value: boolean) =>
    h.db.setting.upsert({
      where: { key: 'suppressHardBounces' },
      create: { key: 'suppressHardBounces', value },
      update: { value },
    });

  it('on: a 5.1.1 puts the address on the list with the reply and the queue id; later mail fails at dispatch with a DSN that says so', async () => {
    await setting(true);
    try {
      h.fake.answer('Gone@Twelve.example', NO_SUCH_USER);
      h.fake.answer('busy@twelve.example', { ...NO_SUCH_USER, enhanced: '5.2.2', text: 'Mailbox full' });
      const first = await h.store({
        sender: 'frank@example.net',
        recipients: [{ address: 'Gone@Twelve.example' }, { address: 'busy@twelve.example' }],
      });
      await waitFor(() => done(first.id), 10_000, 'first message done');
      const entry = await h.db.suppression.findUnique({ where: { address: 'gone@twelve.example' } });
      expect(entry).toMatchObject({
        reason: 'hard bounce: 550 5.1.1 No such user here',
        queueId: first.queueId,
        expiresAt: null,
      });
      // 5.2.2 is a full mailbox, not a missing one: not suppressed.
      expect(await h.db.suppression.count({ where: { address: 'busy@twelve.example' } })).toBe(0);

      const later = await h.store({
        sender: 'frank@example.net',
        recipients: [{ address: 'gone@twelve.example' }],
      });
      await waitFor(() => done(later.id), 10_000, 'later message done');
      expect(h.fake.count('gone@twelve.example')).toBe(0);
      expect(await h.recipient(later.rcpt['gone@twelve.example'])).toMatchObject({
        status: 'bounced',
        lastReplyCode: 550,
        lastEnhancedCode: '5.7.1',
        lastReplyText: 'Recipient address suppressed (hard bounce: 550 5.1.1 No such user here)',
      });
      const dsn = (await h.dsnsTo('frank@example.net')).find((d) => d.raw.includes(later.queueId));
      // Unfolded (RFC 5322 §2.2.3): the long field is folded in the report.
      const report = dsn?.parsed.attachments[0].content.toString('utf8').replace(/\r\n(?=[ \t])/g, '');
      expect(report).toContain('Status: 5.7.1');
      expect(report).toContain(
        'Diagnostic-Code: smtp; 550 5.7.1 Recipient address suppressed (hard bounce: 550 5.1.1 No such user here)',
      );
    } finally {
      await setting(false);
    }
  });

  it('off: a 5.1.1 bounces and suppresses nothing', async () => {
    h.fake.answer('nobody@thirteen.example', NO_SUCH_USER);
    const m = await h.store({ recipients: [{ address: 'nobody@thirteen.example' }] });
    await waitFor(() => done(m.id), 10_000, 'message done');
    expect((await h.recipient(m.rcpt['nobody@thirteen.example'])).status).toBe('bounced');
    expect(await h.db.suppression.count({ where: { address: 'nobody@thirteen.example' } })).toBe(0);
  });
});

describe('metrics', () => {
  it('counts transitions', async () => {
    const text = await h.registry.metrics();
    expect(text).toMatch(/mta_queue_transitions_total\{transition="delivered"\} \d+/);
    expect(text).toMatch(/mta_queue_dsn_total\{kind="failed"\} [1-9]/);
  });
});
