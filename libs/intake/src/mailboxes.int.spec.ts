/**
 * Issue 16 at intake, with swaks against the real mx and submission services: local parts of our
 * mailboxes without regard to case, whole-domain send-as, alias expansion (loops, depth, limits)
 * and forwarding with SRS (the copy with the SRS sender, bounces to SRS addresses).
 */
import { hashPassword } from '@mta/auth';
import { readMessageBuffer } from '@mta/db';
import { Srs } from '@mta/mail';
import { txtRecord } from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intakeFixture, type IntakeFixture } from './testing/intake-fixture';
import { lastReply, swaks } from './testing/peers';

const PASSWORD = 'correct horse battery staple';
const SRS_SECRET = 'an srs secret for the tests';
const srs = new Srs({ secret: SRS_SECRET, domain: 'srs.test.example' });
const auth = (user: string) => ['--tls', '--auth', 'PLAIN', '--auth-user', user, '--auth-password', PASSWORD];
const queued = (t: { replies: string[] }) =>
  /^250 2\.0\.0 .*queued as ([0-9A-Z]{16})/.exec(lastReply(t, '250 2.0.0') ?? '')?.[1];

describe('mailboxes: case, send-as, aliases and SRS forwarding (swaks, mx and submission)', () => {
  let fx: IntakeFixture;
  let mx: number;
  let submission: number;
  let localId: string;

  const alias = (address: string, targets: string[]) =>
    fx.db.alias.create({
      data: { address, domainId: localId, targets: { create: targets.map((t) => ({ address: t })) } },
    });

  beforeAll(async () => {
    fx = await intakeFixture();
    // swaks connects from 127.0.0.1, which forged.test's SPF does not allow: DMARC fails (p=none lets it in).
    fx.dnsRecords.push(
      txtRecord('forged.test', 'v=spf1 ip4:192.0.2.1 -all'),
      txtRecord('_dmarc.forged.test', 'v=DMARC1; p=none'),
    );
    const env = { SRS_SECRET, SRS_DOMAIN: 'srs.test.example', ALIAS_MAX_DEPTH: '3', MAX_RECIPIENTS: '100' };
    [mx] = (await fx.start('mx', env)).ports as [number];
    [submission] = (await fx.start('submission', env)).ports as [number];
    localId = (await fx.db.domain.findUniqueOrThrow({ where: { name: 'local.example' } })).id;
    const passwordHash = await hashPassword(PASSWORD, { ln: 12, r: 8, p: 1 });
    // As the admin API stores them: our mailboxes in lower case.
    await fx.db.account.create({
      data: {
        address: 'mixed.case@local.example',
        passwordHash,
        domainId: localId,
        sendAs: { create: [{ address: '@brand.example' }] },
      },
    });
    await fx.db.account.create({ data: { address: 'bob@local.example', passwordHash, domainId: localId } });
    const sales = await alias('sales@local.example', ['friend@Remote.example']);
    const alice = await fx.db.account.findUniqueOrThrow({ where: { address: 'alice@local.example' } });
    const bob = await fx.db.account.findUniqueOrThrow({ where: { address: 'bob@local.example' } });
    await fx.db.aliasTarget.createMany({
      data: [
        { aliasId: sales.id, accountId: alice.id },
        { aliasId: sales.id, accountId: bob.id },
      ],
    });
    await alias('outside@local.example', ['someone@remote.example']);
    await alias('ping@local.example', ['pong@local.example']);
    await alias('pong@local.example', ['Ping@local.example']);
    await alias('level1@local.example', ['alice@local.example']);
    await alias('level2@local.example', ['level1@local.example']);
    await alias('level3@local.example', ['level2@local.example']);
    await alias('level4@local.example', ['level3@local.example']);
    await alias(
      'hundred@local.example',
      Array.from({ length: 100 }, (_, i) => `r${i}@remote.example`),
    );
    await alias(
      'hundred1@local.example',
      Array.from({ length: 101 }, (_, i) => `r${i}@remote.example`),
    );
  });
  afterAll(() => fx?.close());

  const message = (queueId: string) =>
    fx.db.message.findUniqueOrThrow({
      where: { queueId },
      include: { recipients: { orderBy: { address: 'asc' } } },
    });

  it('logs in and takes mail for a mixed-case account whatever case the client uses', async () => {
    const login = await swaks(submission, [...auth('Mixed.CASE@Local.Example'), '--quit-after', 'AUTH']);
    expect(lastReply(login, '235'), login.output).toMatch(/^235 2\.7\.0/);
    const t = await swaks(mx, ['--from', 'someone@remote.example', '--to', 'Mixed.Case@LOCAL.example']);
    const stored = await message(queued(t) ?? '');
    // The envelope keeps the case the sender used; delivery finds the mailbox without regard to it.
    expect(stored.recipients.map((r) => [r.address, r.route])).toEqual([
      ['Mixed.Case@local.example', 'local'],
    ]);
  });

  it('honours a whole-domain send-as (envelope and header From) and refuses another domain with 553', async () => {
    const ok = await swaks(
      submission,
      [...auth('mixed.case@local.example'), '--from', 'News@BRAND.example', '--to', 'friend@remote.example'],
      'From: Brand News <news@brand.example>\r\nSubject: hi\r\n\r\nHello',
    );
    expect(queued(ok), ok.output).toBeDefined();
    const envelope = await swaks(submission, [
      ...auth('mixed.case@local.example'),
      '--from',
      'news@other.example',
      '--to',
      'friend@remote.example',
    ]);
    expect(lastReply(envelope, '553'), envelope.output).toMatch(/^553 5\.7\.1 /);
    const header = await swaks(
      submission,
      [...auth('mixed.case@local.example'), '--from', 'news@brand.example', '--to', 'friend@remote.example'],
      'From: <news@sub.brand.example>\r\nSubject: hi\r\n\r\nHello',
    );
    expect(lastReply(header, '553'), header.output).toMatch(/^553 5\.7\.1 From: <news@sub\.brand\.example>/);
  });

  it('delivers an alias to its accounts and forwards to its outside target in a copy with an SRS sender', async () => {
    const t = await swaks(
      mx,
      ['--from', 'Carol@Origin.example', '--to', 'Sales@local.example,bob@local.example'],
      'From: <carol@origin.example>\r\nSubject: to sales\r\n\r\nHello sales',
    );
    const main = await message(queued(t) ?? '');
    expect(main.sender).toBe('Carol@Origin.example');
    // bob once, though named twice; the alias is each one's ORCPT (RFC 3461 §4.2) but for bob's own RCPT.
    expect(main.recipients.map((r) => [r.address, r.route, r.dsnOrcpt])).toEqual([
      ['alice@local.example', 'local', 'rfc822;Sales@local.example'],
      ['bob@local.example', 'local', 'rfc822;Sales@local.example'],
    ]);
    const copies = await fx.db.message.findMany({
      where: { sender: { startsWith: 'SRS0=' }, receivedAt: { gte: main.receivedAt } },
      include: { recipients: true },
    });
    expect(copies).toHaveLength(1);
    const [copy] = copies;
    expect(copy.sender).toMatch(/^SRS0=[^=]{4}=[A-Z2-7]{2}=origin\.example=Carol@srs\.test\.example$/);
    expect(srs.reverse(copy.sender)).toEqual({ ok: true, address: 'Carol@origin.example' });
    expect(copy.recipients.map((r) => [r.address, r.route, r.dsnOrcpt])).toEqual([
      ['friend@remote.example', 'remote', 'rfc822;Sales@local.example'],
    ]);
    // The same bytes, our Received naming the first message's id.
    expect((await readMessageBuffer(fx.db, copy.id)).equals(await readMessageBuffer(fx.db, main.id))).toBe(
      true,
    );
    expect((await readMessageBuffer(fx.db, copy.id)).toString()).toContain(`id ${main.queueId}`);
  });

  it('never forwards mail that failed our DMARC check: the local targets get it; forwarding only is 550 5.7.1', async () => {
    const body = (subject: string) => `From: <ceo@forged.test>\r\nSubject: ${subject}\r\n\r\nPay now.`;
    const t = await swaks(
      mx,
      ['--from', 'ceo@forged.test', '--to', 'sales@local.example'],
      body('dmarc mixed'),
    );
    const stored = await message(queued(t) ?? '');
    expect(stored.authResults).toMatchObject({ dmarc: { result: 'fail' }, decision: { action: 'accept' } });
    expect(stored.recipients.map((r) => r.address)).toEqual(['alice@local.example', 'bob@local.example']);
    expect(await fx.db.message.count({ where: { sender: { contains: 'forged.test=ceo@' } } })).toBe(0);
    const only = await swaks(
      mx,
      ['--from', 'ceo@forged.test', '--to', 'outside@local.example'],
      body('dmarc only'),
    );
    expect(lastReply(only, '550'), only.output).toMatch(
      /^550 5\.7\.1 Message not forwarded: it failed the DMARC check/,
    );
    // The same alias forwards mail that passes (or has no DMARC record).
    const fine = await swaks(mx, ['--from', 'carol@origin.example', '--to', 'outside@local.example']);
    expect((await message(queued(fine) ?? '')).sender).toMatch(/^SRS0=/);
  });

  it('keeps the null sender of a bounce sent to an alias: one message, nothing to rewrite', async () => {
    const t = await swaks(mx, ['--from', '<>', '--to', 'sales@local.example']);
    const stored = await message(queued(t) ?? '');
    expect(stored.sender).toBe('');
    expect(stored.recipients.map((r) => r.address)).toEqual([
      'alice@local.example',
      'bob@local.example',
      'friend@remote.example',
    ]);
  });

  it('refuses an alias loop and nesting past ALIAS_MAX_DEPTH with 550 5.4.6 at RCPT, and takes the deepest allowed', async () => {
    const loop = await swaks(mx, [
      '--from',
      'a@remote.example',
      '--to',
      'ping@local.example',
      '--quit-after',
      'RCPT',
    ]);
    expect(lastReply(loop, '550'), loop.output).toMatch(/^550 5\.4\.6 .*alias loop/);
    const deep = await swaks(mx, [
      '--from',
      'a@remote.example',
      '--to',
      'level4@local.example',
      '--quit-after',
      'RCPT',
    ]);
    expect(lastReply(deep, '550'), deep.output).toMatch(/^550 5\.4\.6 .*nested deeper than 3 aliases/);
    const ok = await swaks(mx, ['--from', 'a@remote.example', '--to', 'level3@local.example']);
    expect((await message(queued(ok) ?? '')).recipients.map((r) => r.address)).toEqual([
      'alice@local.example',
    ]);
  });

  it('counts expanded recipients against MAX_RECIPIENTS: 100 pass, 101 in one alias 550 5.5.3, one more RCPT 452 4.5.3', async () => {
    const at = await swaks(mx, ['--from', '<>', '--to', 'hundred@local.example']);
    expect((await message(queued(at) ?? '')).recipients).toHaveLength(100);
    const past = await swaks(mx, ['--from', '<>', '--to', 'hundred1@local.example', '--quit-after', 'RCPT']);
    expect(lastReply(past, '550'), past.output).toMatch(/^550 5\.5\.3 .*more than 100 recipients/);
    const more = await swaks(mx, ['--from', '<>', '--to', 'hundred@local.example,alice@local.example']);
    expect(lastReply(more, '452'), more.output).toMatch(/^452 4\.5\.3 /);
    // The 100 already accepted still go.
    expect((await message(queued(more) ?? '')).recipients).toHaveLength(100);
  });

  it('takes a bounce to our SRS address for the original sender, and refuses forged or expired ones (550 5.1.1)', async () => {
    const address = srs.forward('Carol@origin.example');
    const t = await swaks(mx, ['--from', '<>', '--to', address]);
    const stored = await message(queued(t) ?? '');
    expect(stored.recipients.map((r) => [r.address, r.route])).toEqual([['Carol@origin.example', 'remote']]);
    const forged = await swaks(mx, [
      '--from',
      '<>',
      '--to',
      address.replace('=Carol@', '=Mallory@'),
      '--quit-after',
      'RCPT',
    ]);
    expect(lastReply(forged, '550'), forged.output).toMatch(/^550 5\.1\.1 .*invalid SRS signature/);
    const old = new Srs({
      secret: SRS_SECRET,
      domain: 'srs.test.example',
      now: () => Date.now() - 30 * 86_400_000,
    });
    const expired = await swaks(mx, [
      '--from',
      '<>',
      '--to',
      old.forward('carol@origin.example'),
      '--quit-after',
      'RCPT',
    ]);
    expect(lastReply(expired, '550'), expired.output).toMatch(/^550 5\.1\.1 .*expired SRS address/);
  });
});
