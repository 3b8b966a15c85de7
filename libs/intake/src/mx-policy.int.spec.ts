/**
 * The inbound authentication of mx end to end: a real listener, swaks as the client, a loopback
 * DNS server (the fixture's) serving SPF, DKIM and DMARC records, messages signed by python3-dkim,
 * PostgreSQL for what is (or is not) stored.
 */
import { readMessageBuffer } from '@mta/db';
import { pythonArcVerify, pythonDkimSign, testDkimKey, txtRecord, type TestDkimKey } from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intakeFixture, type IntakeFixture } from './testing/intake-fixture';
import { lastReply, swaks } from './testing/peers';

/** swaks connects from 127.0.0.1: the "good" domains allow it, the others do not. */
const allows = 'v=spf1 ip4:127.0.0.1 -all';
const denies = 'v=spf1 ip4:192.0.2.1 -all';

describe('mx inbound authentication (SPF, DKIM, DMARC, Authentication-Results)', () => {
  let fx: IntakeFixture;
  let port: number;
  let key: TestDkimKey;

  beforeAll(async () => {
    fx = await intakeFixture();
    key = testDkimKey('ed25519', 'signed.test', 'ed');
    fx.dnsRecords.push(
      txtRecord('bank.test', denies),
      txtRecord('_dmarc.bank.test', 'v=DMARC1; p=reject'),
      txtRecord('shop.test', denies),
      txtRecord('_dmarc.shop.test', 'v=DMARC1; p=quarantine'),
      txtRecord('good.test', allows),
      txtRecord('_dmarc.good.test', 'v=DMARC1; p=reject'),
      txtRecord('signed.test', denies),
      txtRecord('_dmarc.signed.test', 'v=DMARC1; p=reject'),
      txtRecord('ed._domainkey.signed.test', key.record),
      txtRecord('_dmarc.slow.test', 'v=DMARC1; p=reject'),
    );
    await fx.db.domain.create({
      data: { name: 'lenient.example', type: 'local', acceptAll: true, dmarcEnforce: false },
    });
    [port] = (
      await fx.start('mx', {
        // `slow.test` gets no answer: a DNS timeout, quickly.
        POLICY_DNS_TIMEOUT_MS: '150',
      })
    ).ports as [number];
  });
  afterAll(() => fx?.close());

  const message = (from: string, extra = '') =>
    `${extra}From: <${from}>\r\nTo: <alice@local.example>\r\nSubject: invoice\r\nMessage-ID: <${Math.random()}@x>\r\n\r\nPay now.\r\n`;
  const send = (from: string, data: string | Buffer, to = 'alice@local.example') =>
    swaks(port, ['--from', from, '--to', to], data);
  const queued = (t: { replies: string[] }) =>
    /^250 2\.0\.0 .*queued as ([0-9A-Z]{16})/.exec(lastReply(t, '250 ') ?? '')?.[1];
  async function stored(queueId: string | undefined) {
    const row = await fx.db.message.findUniqueOrThrow({ where: { queueId: queueId ?? '' } });
    return { row, text: (await readMessageBuffer(fx.db, row.id)).toString('latin1') };
  }

  it('SPF fail + DMARC p=reject: 550 5.7.1 after the data, nothing stored, a refused event', async () => {
    const before = await fx.db.message.count();
    const t = await send('ceo@bank.test', message('ceo@bank.test'));
    expect(lastReply(t, '550 '), t.output).toMatch(/^550 5\.7\.1 .*DMARC policy of bank\.test/);
    expect(await fx.db.message.count()).toBe(before);
    const event = await fx.db.event.findFirst({ where: { type: 'refused' }, orderBy: { createdAt: 'desc' } });
    expect(event).toMatchObject({
      messageId: null,
      detail: { sender: 'ceo@bank.test', recipients: ['alice@local.example'] },
    });
    expect(event?.queueId).toMatch(/^[0-9A-Z]{16}$/);
    const counted = await fx.metrics.registry.getSingleMetric('mta_intake_inbound_decisions_total')?.get();
    expect(counted?.values).toContainEqual(
      expect.objectContaining({ labels: { dmarc: 'fail', action: 'reject' }, value: 1 }),
    );
  });

  it('p=quarantine: stored, flagged for the Junk folder, X-Spam: Yes', async () => {
    const { row, text } = await stored(queued(await send('news@shop.test', message('news@shop.test'))));
    expect(row.quarantine).toBe(true);
    expect(row.authResults).toMatchObject({
      dmarc: { result: 'fail', policy: 'quarantine' },
      decision: { action: 'quarantine' },
    });
    expect(text).toMatch(
      /^Authentication-Results: mx\.test\.example;[^]*dmarc=fail[^]*\r\nX-Spam: Yes\r\nReceived: /,
    );
  });

  it('removes a forged Authentication-Results with our authserv-id and keeps another one', async () => {
    const forged =
      'Authentication-Results: mx.test.example; spf=pass smtp.mailfrom=good.test;\r\n dmarc=pass header.from=good.test\r\n' +
      'Authentication-Results: (sneaky) MX.TEST.EXAMPLE; dkim=pass\r\n' +
      'Authentication-Results: relay.elsewhere.example; spf=pass\r\n';
    const { row, text } = await stored(
      queued(await send('someone@good.test', message('someone@good.test', forged))),
    );
    expect(text.match(/^Authentication-Results: mx\.test\.example/gim)).toHaveLength(1);
    expect(text).not.toMatch(/sneaky|dmarc=pass header\.from=good\.test\r\n/);
    expect(text).toContain('Authentication-Results: relay.elsewhere.example; spf=pass\r\n');
    expect(text).toMatch(/^Authentication-Results: mx\.test\.example;\r\n\tspf=pass [^]*dmarc=pass/);
    expect(row.quarantine).toBe(false);
  });

  it('accepts mail signed by python3-dkim (Ed25519) although SPF fails: DKIM-aligned DMARC pass', async () => {
    const signed = await pythonDkimSign(Buffer.from(message('billing@signed.test')), key);
    const { row, text } = await stored(queued(await send('billing@signed.test', signed)));
    expect(row.authResults).toMatchObject({
      spf: { mailfrom: { result: 'fail' } },
      dkim: [{ domain: 'signed.test', algorithm: 'ed25519-sha256', result: 'pass' }],
      dmarc: { result: 'pass' },
    });
    expect(text).toMatch(/dkim=pass header\.i=@signed\.test header\.s=ed/);
  });

  it('a DNS timeout makes SPF temperror (RFC 7208 §8.6): 451 4.7.0 where a p=reject could apply, never 5xx', async () => {
    fx.dnsFaults['slow.test'] = 'drop';
    const t = await send('a@slow.test', message('a@slow.test'));
    expect(lastReply(t, '451 '), t.output).toMatch(/^451 4\.7\.0 /);
    expect(t.replies.some((r) => r.startsWith('5'))).toBe(false);
    expect(fx.dns.count('TXT', 'slow.test')).toBeGreaterThan(0);
  });

  it('a DNS timeout without a DMARC policy at stake: accepted, spf=temperror in the header', async () => {
    fx.dnsFaults['slowspf.test'] = 'drop';
    const { row, text } = await stored(queued(await send('a@slowspf.test', message('a@elsewhere.test'))));
    expect(row.authResults).toMatchObject({
      spf: { mailfrom: { result: 'temperror' } },
      decision: { action: 'accept' },
    });
    expect(text).toMatch(/^Authentication-Results: mx\.test\.example;\r\n\tspf=temperror /);
  });

  it('DMARC enforcement off for the recipient domain: accepted and tagged', async () => {
    const { row, text } = await stored(
      queued(await send('ceo@bank.test', message('ceo@bank.test'), 'anyone@lenient.example')),
    );
    expect(row.authResults).toMatchObject({
      dmarc: { result: 'fail' },
      decision: { action: 'accept', appliedPolicy: 'reject' },
    });
    expect(text).toMatch(/dmarc=fail [^\r]*\(accept: [^\r]*enforcement off/);
  });

  it("ARC-seals mail for a relay domain with the RSA key of MTA_HOSTNAME's domain; dkimpy validates the chain", async () => {
    const arcKey = testDkimKey('rsa', 'test.example', 'arc1');
    await fx.db.domain.create({
      data: {
        name: 'test.example',
        dkimKeys: {
          create: [
            {
              selector: 'arc1',
              algorithm: 'rsa',
              privateKey: arcKey.privateKey,
              publicKey: arcKey.publicKey,
            },
          ],
        },
      },
    });
    const signed = await pythonDkimSign(Buffer.from(message('billing@signed.test')), key);
    const relayed = await stored(queued(await send('billing@signed.test', signed, 'someone@relay.example')));
    expect(relayed.text).toMatch(
      /^ARC-Seal: i=1;[^]*\r\nARC-Message-Signature: i=1;[^]*\r\nARC-Authentication-Results: i=1; mx\.test\.example;[^]*\r\nAuthentication-Results: mx\.test\.example;/,
    );
    expect(relayed.text).toMatch(/^ARC-Seal: [^]*d=test\.example;[^]*s=arc1;/);
    const records = {
      'arc1._domainkey.test.example': arcKey.record,
      'ed._domainkey.signed.test': key.record,
    };
    expect(await pythonArcVerify(Buffer.from(relayed.text, 'latin1'), records)).toMatchObject({
      cv: 'pass',
      instances: 1,
    });
    // Mail that stays here is not sealed.
    const local = await stored(queued(await send('billing@signed.test', signed)));
    expect(local.text).not.toMatch(/^ARC-/m);
  });

  it('enforcement off for one recipient domain does not open the door for the others', async () => {
    const t = await swaks(
      port,
      ['--from', 'ceo@bank.test', '--to', 'anyone@lenient.example,alice@local.example'],
      message('ceo@bank.test'),
    );
    expect(lastReply(t, '550 '), t.output).toMatch(/^550 5\.7\.1 /);
  });
});
