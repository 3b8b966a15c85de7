import { dkimRecords, havePythonDkim, pythonDkimVerify, testDkimKey, until, requirePeer } from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_SCHEDULE, Harness, NO_SUCH_USER, openHarness } from './testing/harness';

// The harness runs with MTA_HOSTNAME `mta.test`; python3-dkim checks the stored DSN.
const ci = process.env['CI'] === 'true';
const rsa = testDkimKey('rsa', 'mta.test', 'bounce1');
const ed = testDkimKey('ed25519', 'mta.test', 'bounce2');

let h: Harness;
let close: (() => Promise<void>) | undefined;
let python = false;

beforeAll(async () => {
  python = await havePythonDkim();
  if (ci && !python) throw new Error('python3-dkim (with python3-nacl) is required under CI');
  ({ h, close } = await openHarness({ schedule: FAST_SCHEDULE, reconcileIntervalMs: 0 }, async (x) => {
    await x.db.domain.create({ data: { name: 'mta.test', type: 'local' } });
  }));
});
afterAll(() => close?.());

async function bounce(sender: string) {
  h.fake.answer(`gone@${sender.split('@')[0]}.example`, NO_SUCH_USER);
  await h.store({ sender, recipients: [{ address: `gone@${sender.split('@')[0]}.example` }] });
  const dsns = await until('a DSN', async () => {
    const found = await h.dsnsTo(sender);
    return found.length > 0 ? found : null;
  });
  const [dsn] = dsns;
  if (!dsn) throw new Error('no DSN');
  return dsn;
}

describe('DSNs we write are DKIM-signed with the key of MTA_HOSTNAME', () => {
  it('goes unsigned while the domain has no active key', async () => {
    const dsn = await bounce('first@remote.example');
    expect(dsn.raw).not.toMatch(/^DKIM-Signature:/im);
  });

  it('signs with RSA and Ed25519 once the keys are active, verified by python3-dkim', async (t) => {
    if (!requirePeer('python3-dkim', python)) return t.skip();
    const domain = await h.db.domain.findUniqueOrThrow({ where: { name: 'mta.test' } });
    for (const k of [rsa, ed])
      await h.db.dkimKey.create({
        data: {
          domainId: domain.id,
          selector: k.selector,
          algorithm: k.algorithm,
          privateKey: k.privateKey,
          publicKey: k.publicKey,
        },
      });
    const dsn = await bounce('second@remote.example');
    expect(dsn.raw.startsWith('DKIM-Signature:')).toBe(true);
    const row = await h.db.message.findUniqueOrThrow({ where: { id: dsn.id } });
    expect(row.size).toBe(Buffer.byteLength(dsn.raw));
    const verdicts = await pythonDkimVerify(Buffer.from(dsn.raw), dkimRecords(rsa, ed));
    expect(verdicts.map((v) => [v.domain, v.selector, v.ok])).toEqual([
      ['mta.test', 'bounce1', true],
      ['mta.test', 'bounce2', true],
    ]);
  });
});
