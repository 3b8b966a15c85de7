/**
 * FCrDNS through mx with a real client (swaks, from several loopback addresses) and a DNS server
 * on loopback (the fixture's, DNS_SERVERS): the confirmed name goes in the Received header,
 * `from helo (name [ip])`, and in `messages.client_hostname`; otherwise `unknown` and null.
 */
import { aRecord, ptrRecord } from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMessageBuffer } from '@mta/db';
import { intakeFixture, type IntakeFixture } from './testing/intake-fixture';
import { lastReply, swaks } from './testing/peers';

describe('the client name, forward-confirmed (mx)', () => {
  let fx: IntakeFixture;
  let port: number;

  beforeAll(async () => {
    fx = await intakeFixture();
    fx.dnsRecords.push(
      ptrRecord('11.0.0.127.in-addr.arpa', 'relay.fcrdns.test'),
      aRecord('relay.fcrdns.test', '127.0.0.11'),
      ptrRecord('12.0.0.127.in-addr.arpa', 'liar.fcrdns.test'),
      aRecord('liar.fcrdns.test', '192.0.2.99'), // points elsewhere: not confirmed
    );
    fx.dnsFaults['13.0.0.127.in-addr.arpa'] = 'drop'; // a DNS that never answers
    [port] = (await fx.start('mx')).ports as [number];
  });
  afterAll(() => fx?.close());

  async function sendFrom(address: string) {
    const t = await swaks(port, [
      '--local-interface',
      address,
      '--from',
      'bob@remote.example',
      '--to',
      'alice@local.example',
      '--h-Subject',
      `from ${address}`,
    ]);
    const queueId = /queued as ([0-9A-Z]{16})/.exec(lastReply(t, '250 ') ?? '')?.[1];
    expect(queueId, t.output).toBeDefined();
    const message = await fx.db.message.findUniqueOrThrow({ where: { queueId } });
    const stored = (await readMessageBuffer(fx.db, message.id)).toString('latin1');
    // Our Received field (below Authentication-Results), unfolded.
    const received = /^Received: from client\.example .*?(?=\r\n(?![ \t]))/ms.exec(stored)?.[0] ?? '';
    return { message, received: received.replace(/\r\n[ \t]+/g, ' ') };
  }

  it('names a client whose PTR name points back to it', async () => {
    const { message, received } = await sendFrom('127.0.0.11');
    expect(message.clientHostname).toBe('relay.fcrdns.test');
    expect(received).toMatch(/^Received: from client\.example \(relay\.fcrdns\.test \[127\.0\.0\.11\]\)/);
  });

  it('says unknown when the PTR name does not point back', async () => {
    const { message, received } = await sendFrom('127.0.0.12');
    expect(message.clientHostname).toBeNull();
    expect(received).toMatch(/^Received: from client\.example \(unknown \[127\.0\.0\.12\]\)/);
  });

  it('takes the mail without a name when DNS does not answer (the lookup has a deadline)', async () => {
    const { message, received } = await sendFrom('127.0.0.13');
    expect(message.clientHostname).toBeNull();
    expect(received).toMatch(/^Received: from client\.example \(unknown \[127\.0\.0\.13\]\)/);
  });
});
