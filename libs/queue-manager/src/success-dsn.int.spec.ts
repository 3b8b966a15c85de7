/**
 * NOTIFY=SUCCESS (RFC 3461 §4.1): one success notice per message per outcome batch, `delivered`
 * for local (final) delivery, `relayed` when the next hop did not offer DSN (§5.2.2), none when
 * it did (NOTIFY went on). Python's `email` package parses each notice, as a mail client would.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until, requirePeer } from '@mta/testing';
import { FAST_SCHEDULE, Harness, OK, openHarness, waitFor } from './testing/harness';

const havePython = spawnSync('python3', ['--version']).status === 0;
if (process.env['CI'] === 'true' && !havePython) throw new Error('python3 is required under CI');

/** The report as Python's email package reads it: types, and each recipient block's fields. */
const PARSE = `
import email, email.policy, json, sys
msg = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
parts = list(msg.iter_parts())
status = [p for p in parts if p.get_content_type() == 'message/delivery-status']
blocks = status[0].get_payload() if status else []
print(json.dumps({
  'type': msg.get_content_type(),
  'reportType': msg.get_param('report-type'),
  'parts': [p.get_content_type() for p in parts],
  'recipients': [{k: str(v) for k, v in b.items()} for b in blocks[1:]],
}))
`;
interface Parsed {
  type: string;
  reportType: string;
  parts: string[];
  recipients: Record<string, string>[];
}
const parse = (raw: string): Parsed =>
  JSON.parse(execFileSync('python3', ['-c', PARSE], { input: Buffer.from(raw) }).toString()) as Parsed;

let h: Harness;
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ h, close } = await openHarness({ schedule: FAST_SCHEDULE, reconcileIntervalMs: 0 }, (x) =>
    x.db.domain.create({ data: { name: 'example.net', type: 'local' } }),
  ));
});
afterAll(() => close?.());

const done = async (id: string) => (await h.db.message.findUniqueOrThrow({ where: { id } })).state === 'done';

describe.skipIf(!requirePeer('python3', havePython))('success notices (NOTIFY=SUCCESS)', () => {
  it('local delivery: one "delivered" DSN for the recipients that asked, a multipart/report', async () => {
    const m = await h.store({
      sender: 'erin@example.net',
      envid: 'ENV-OK',
      recipients: [
        { address: 'one@example.net', route: 'local', notify: ['SUCCESS', 'FAILURE'] },
        { address: 'two@example.net', route: 'local', notify: ['SUCCESS'] },
        { address: 'never@example.net', route: 'local', notify: ['NEVER'] },
        { address: 'plain@example.net', route: 'local' },
      ],
    });
    await waitFor(() => done(m.id), 10_000, 'message done');
    const dsns = await until('the success DSN', async () => {
      const d = await h.dsnsTo('erin@example.net');
      return d.length > 0 ? d : null;
    });
    expect(dsns).toHaveLength(1);
    expect(dsns[0].sender).toBe(''); // RFC 3461 §6.1: MAIL FROM:<>
    const report = parse(dsns[0].raw);
    expect(report).toMatchObject({
      type: 'multipart/report',
      reportType: 'delivery-status',
      parts: ['text/plain', 'message/delivery-status', 'text/rfc822-headers'],
    });
    expect(report.recipients.map((r) => [r['Final-Recipient'], r['Action'], r['Status']])).toEqual([
      ['rfc822; one@example.net', 'delivered', '2.0.0'],
      ['rfc822; two@example.net', 'delivered', '2.0.0'],
    ]);
    expect(dsns[0].raw).toContain('Original-Envelope-Id: ENV-OK');
    expect(report.recipients[0]).not.toHaveProperty('Remote-MTA');
    expect((await h.recipient(m.rcpt['one@example.net'])).status).toBe('delivered');
  });

  it('remote delivery: "relayed" when the next hop did not offer DSN, nothing when it did', async () => {
    h.fake.answer('relayed@ten.example', { ...OK, nextHopDsn: false });
    h.fake.answer('passed@ten.example', { ...OK, nextHopDsn: true });
    const m = await h.store({
      sender: 'frank@example.net',
      recipients: [
        { address: 'relayed@ten.example', notify: ['SUCCESS'] },
        { address: 'passed@ten.example', notify: ['SUCCESS'] },
      ],
    });
    await waitFor(() => done(m.id), 10_000, 'message done');
    const dsns = await until('the relayed DSN', async () => {
      const d = await h.dsnsTo('frank@example.net');
      return d.length > 0 ? d : null;
    });
    const report = parse(dsns[0].raw);
    expect(report.reportType).toBe('delivery-status');
    expect(report.recipients.map((r) => [r['Final-Recipient'], r['Action'], r['Remote-MTA']])).toEqual([
      ['rfc822; relayed@ten.example', 'relayed', 'dns; mx.ten.example'],
    ]);
    expect(dsns).toHaveLength(1);
  });

  it('NOTIFY=NEVER, no NOTIFY, and a null sender get no success notice', async () => {
    const none = await h.store({
      sender: 'gina@example.net',
      recipients: [
        { address: 'a@example.net', route: 'local', notify: ['NEVER'] },
        { address: 'b@example.net', route: 'local' },
        { address: 'c@example.net', route: 'local', notify: ['FAILURE', 'DELAY'] },
      ],
    });
    const nullSender = await h.store({
      sender: '',
      recipients: [{ address: 'd@example.net', route: 'local', notify: ['SUCCESS'] }],
    });
    // A later message to the same sender that does ask: its notice is the only one.
    await waitFor(() => done(none.id), 10_000, 'message done');
    await waitFor(() => done(nullSender.id), 10_000, 'message done');
    const marker = await h.store({
      sender: 'gina@example.net',
      recipients: [{ address: 'e@example.net', route: 'local', notify: ['SUCCESS'] }],
    });
    await waitFor(() => done(marker.id), 10_000, 'message done');
    const dsns = await until('the marker DSN', async () => {
      const d = await h.dsnsTo('gina@example.net');
      return d.length > 0 ? d : null;
    });
    expect(dsns).toHaveLength(1);
    expect(parse(dsns[0].raw).recipients.map((r) => r['Final-Recipient'])).toEqual(['rfc822; e@example.net']);
    expect(
      await h.db.message.count({ where: { source: 'bounce', recipients: { some: { address: '' } } } }),
    ).toBe(0);
  });
});
