/**
 * LMTP delivery (RFC 2033) to a private Dovecot: the Maildir files Dovecot writes hold the
 * body; an unknown user is refused at RCPT (550 5.1.1, failed); a user over quota is refused
 * after the final dot (452 4.2.2, deferred) while the others in the same transaction are saved.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LmtpDeliveryAgent } from './local/lmtp-agent';
import { createLocalDeliveryAgent } from './local/local-agent';
import { startDovecot, haveDovecotLmtp, type Dovecot, requirePeer } from '@mta/testing';
import { composeDsn } from '@mta/mail';
import type { TraceFn } from '@mta/smtp-client';
import { message, request } from './test/fixtures';
import { expectNoLeaks, freePort, resourceCounts } from './test/peers';

const newFiles = (dir: string): string[] => {
  try {
    return readdirSync(path.join(dir, 'new')).map((f) => path.join(dir, 'new', f));
  } catch {
    return [];
  }
};

describe.skipIf(!requirePeer('dovecot-lmtpd', haveDovecotLmtp()))(
  'LmtpDeliveryAgent against Dovecot LMTP',
  () => {
    let dovecot: Dovecot;

    beforeAll(async () => {
      dovecot = await startDovecot([
        { address: 'alice@lmtp.test' },
        { address: 'bob@lmtp.test' },
        { address: 'carol@lmtp.test', quotaKb: 1 },
      ]);
    });
    afterAll(async () => {
      await dovecot?.stop();
    });

    it('delivers to each mailbox; Dovecot’s Maildir files hold the message', async () => {
      const baseline = resourceCounts();
      const agent = new LmtpDeliveryAgent({
        host: '127.0.0.1',
        port: dovecot.port,
        heloName: 'mta.example.org',
      });
      const body = message('lmtp-delivered');
      const report = await agent.deliver(request(['alice@lmtp.test', 'bob@lmtp.test'], body));
      expect(report.results.map((r) => [r.recipientId, r.kind, r.code, r.enhanced])).toEqual([
        ['r1', 'delivered', 250, '2.0.0'],
        ['r2', 'delivered', 250, '2.0.0'],
      ]);
      expect(report.results[0].text).toMatch(/<alice@lmtp\.test> .*Saved/);
      expect(report.results[0].remote).toMatchObject({
        host: '127.0.0.1',
        port: dovecot.port,
        address: '127.0.0.1',
      });
      for (const who of ['alice@lmtp.test', 'bob@lmtp.test']) {
        const files = newFiles(dovecot.maildir(who));
        expect(files).toHaveLength(1);
        const stored = readFileSync(files[0], 'latin1').replace(/\r\n/g, '\n');
        expect(stored).toMatch(/^Return-Path: <sender@example\.org>\n/); // Dovecot adds it (RFC 5321 §4.4)
        expect(stored.endsWith(body.toString('latin1').replace(/\r\n/g, '\n'))).toBe(true);
      }
      await agent.close();
      await expectNoLeaks(baseline);
    });

    it('fails an unknown user at RCPT and defers a user over quota after the dot, in one transaction', async () => {
      const agent = new LmtpDeliveryAgent({
        host: '127.0.0.1',
        port: dovecot.port,
        heloName: 'mta.example.org',
      });
      const big = message('lmtp-quota', ('x'.repeat(70) + '\r\n').repeat(100)); // 7 kB > 1 kB quota
      const before = newFiles(dovecot.maildir('alice@lmtp.test')).length;
      const report = await agent.deliver(
        request(['alice@lmtp.test', 'nobody@lmtp.test', 'carol@lmtp.test'], big),
      );
      expect(report.results.map((r) => [r.kind, r.code, r.enhanced, r.source])).toEqual([
        ['delivered', 250, '2.0.0', 'remote'],
        ['failed', 550, '5.1.1', 'remote'],
        ['deferred', 452, '4.2.2', 'remote'],
      ]);
      expect(report.results[1].text).toMatch(/User doesn't exist/);
      expect(report.results[2].text).toMatch(/Quota exceeded/);
      expect(newFiles(dovecot.maildir('alice@lmtp.test'))).toHaveLength(before + 1);
      expect(newFiles(dovecot.maildir('carol@lmtp.test'))).toHaveLength(0);
      await agent.close();
    });

    it('reuses the LMTP session for the next delivery', async () => {
      const agent = createLocalDeliveryAgent(
        { kind: 'lmtp', host: '127.0.0.1', port: dovecot.port },
        { heloName: 'mta.example.org' },
      );
      const connects = (): number =>
        dovecot
          .log()
          .split('\n')
          .filter((l) => /Connect from/.test(l)).length;
      const before = connects();
      for (const s of ['lmtp-reuse-1', 'lmtp-reuse-2']) {
        const report = await agent.deliver(request(['bob@lmtp.test'], message(s)));
        expect(report.results[0].kind).toBe('delivered');
      }
      await agent.close();
      expect(connects() - before).toBe(1); // one LMTP session carried both messages (RSET between)
    });

    describe('a SMTPUTF8 message, and Dovecot 2.3 does not offer SMTPUTF8 (RFC 6531 §3.4)', () => {
      const lmtp = (trace?: TraceFn) =>
        new LmtpDeliveryAgent({
          host: '127.0.0.1',
          port: dovecot.port,
          heloName: 'mta.example.org',
          trace,
          pool: false,
        });

      it('delivers one with ASCII addresses and header, without the parameter', async () => {
        const lines: string[] = [];
        const agent = lmtp((e) => {
          if (e.direction === 'out') lines.push(e.line);
          if (e.direction === 'in') lines.push(...e.reply.lines);
        });
        const before = newFiles(dovecot.maildir('alice@lmtp.test')).length;
        // A body with UTF-8 text: it needs 8BITMIME, which Dovecot offers, not SMTPUTF8.
        const body = message('utf8-flagged-ascii', 'Grüße, plain 8-bit body text.\r\n');
        const report = await agent.deliver(
          request(['alice@lmtp.test'], body, { envelope: { sender: 'sender@example.org', smtpUtf8: true } }),
        );
        expect(report.results[0]).toMatchObject({ kind: 'delivered', code: 250 });
        expect(lines.some((l) => /SMTPUTF8/.test(l))).toBe(false); // not offered, not sent
        expect(lines.find((l) => l.startsWith('MAIL FROM'))).toMatch(/^MAIL FROM:<sender@example\.org>/);
        const files = newFiles(dovecot.maildir('alice@lmtp.test'));
        expect(files).toHaveLength(before + 1);
        expect(
          files.map((f) => readFileSync(f, 'utf8')).some((t) => t.includes('Subject: utf8-flagged-ascii')),
        ).toBe(true);
        await agent.close();
      });

      it('refuses, locally and before MAIL, one whose header needs UTF-8 (554 5.6.7)', async () => {
        const out: string[] = [];
        const agent = lmtp((e) => void (e.direction === 'out' && out.push(e.line)));
        const before = newFiles(dovecot.maildir('alice@lmtp.test')).length;
        const body = message('Grüße aus Köln');
        const report = await agent.deliver(
          request(['alice@lmtp.test'], body, { envelope: { sender: 'sender@example.org', smtpUtf8: true } }),
        );
        expect(report.results[0]).toMatchObject({
          kind: 'failed',
          code: 554,
          enhanced: '5.6.7',
          source: 'local',
        });
        expect(out.some((l) => l.startsWith('MAIL'))).toBe(false);
        expect(newFiles(dovecot.maildir('alice@lmtp.test'))).toHaveLength(before);
        await agent.close();
      });

      it('delivers the bounce of a SMTPUTF8 message to a local sender (the DSN as the queue manager writes it)', async () => {
        const original = message('utf8-bounced', 'Text.\r\n');
        const dsn = await composeDsn({
          sender: 'bob@lmtp.test',
          reportingMta: 'mta.example.org',
          arrivalDate: new Date(),
          recipients: [
            {
              finalRecipient: 'gone@remote.example',
              action: 'failed',
              status: '5.1.1',
              diagnosticCode: '550 5.1.1 no such user',
            },
          ],
          original: { content: original, size: original.length, smtpUtf8: true, body: '8BITMIME' },
        });
        expect(dsn.smtpUtf8).toBe(true); // a global DSN (RFC 6533), flagged like its original
        const content = Buffer.concat(await dsn.stream.toArray());
        const before = new Set(newFiles(dovecot.maildir('bob@lmtp.test')));
        const agent = lmtp();
        const report = await agent.deliver(
          request(['bob@lmtp.test'], content, {
            envelope: { sender: '', smtpUtf8: dsn.smtpUtf8, eightBitMime: dsn.eightBit },
          }),
        );
        expect(report.results[0]).toMatchObject({ kind: 'delivered', code: 250 });
        // readdir's order is not the delivery order: the new file is the one that was not there.
        const added = newFiles(dovecot.maildir('bob@lmtp.test')).filter((f) => !before.has(f));
        expect(added).toHaveLength(1);
        expect(readFileSync(added[0] ?? '', 'utf8')).toMatch(/report-type=global-delivery-status/);
        await agent.close();
      });
    });

    it('defers every recipient when the LMTP server cannot be reached', async () => {
      const port = await freePort('127.0.0.1');
      const agent = new LmtpDeliveryAgent({ host: '127.0.0.1', port, heloName: 'mta.example.org' });
      const report = await agent.deliver(request(['alice@lmtp.test', 'bob@lmtp.test'], message('lmtp-down')));
      for (const r of report.results)
        expect(r).toMatchObject({ kind: 'deferred', code: 421, enhanced: '4.4.1', source: 'local' });
      await agent.close();
    });
  },
);
