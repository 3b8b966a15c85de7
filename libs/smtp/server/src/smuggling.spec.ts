/**
 * SMTP smuggling (2023) over a real socket: only CRLF.CRLF ends the data. Anything else that looks
 * like an end of data to a sloppy server must not end it; the message is refused with 550 5.5.2
 * at the real end, and the session stays in sync (the smuggled commands are never executed).
 * The same under both `bareNewline` policies: `normalize` takes a bare LF as a line end in the
 * content, never as part of an end of data.
 */
import type { BareNewlinePolicy } from '@mta/smtp-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.testutil';
import { RawClient } from './raw-client.testutil';

const FAKE_ENDS = [
  '\n.\n',
  '\r.\r',
  '\n.\r\n',
  '\r\n.\n',
  '\r\n.\r',
  '\r.\r\n',
  '\n.\r',
  '\r\n.\r\r\n',
  '\r\n\x00.\r\n',
];

describe.each<BareNewlinePolicy>(['reject', 'normalize'])(
  'SMTP smuggling (bareNewline %s)',
  (bareNewline) => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ bareNewline });
    });
    afterAll(() => h.close());

    it.each(FAKE_ENDS.map((e) => [JSON.stringify(e), e]))('%s does not end the data', async (_name, fake) => {
      const before = h.messages.length;
      const c = await RawClient.connect(h.port);
      await c.reply();
      await c.cmd('EHLO client.test');
      c.write('MAIL FROM:<a@x.org>\r\nRCPT TO:<b@y.org>\r\nDATA\r\n');
      expect((await c.reply()).code).toBe(250);
      expect((await c.reply()).code).toBe(250);
      expect((await c.reply()).code).toBe(354);
      const smuggled = `Subject: legit\r\n\r\nhello${fake}MAIL FROM:<admin@victim.org>\r\nRCPT TO:<x@y.org>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n`;
      c.write(smuggled);
      const r = await c.reply();
      if (fake.includes('\x00')) {
        // A NUL is not a line end, but a receiver that strips NULs would see CRLF.CRLF: refused
        // at the real CRLF.CRLF (RFC 5322 §2.1, §3.5: NUL is no message text).
        expect(r.text).toBe('550 5.6.0 Message contains a NUL character, which is not allowed in mail');
      } else {
        expect(r.text).toBe('550 5.5.2 Message contains bare CR or LF; lines must end with CRLF');
      }
      expect(h.messages.length).toBe(before);
      // In sync: the next command is answered, nothing smuggled was executed.
      expect((await c.cmd('NOOP')).code).toBe(250);
      expect(c.unread).toBe('');
      expect((await c.cmd('RCPT TO:<z@y.org>')).code).toBe(503);
      c.destroy();
    });

    it('a body full of bare LFs split across many writes still ends only at CRLF.CRLF', async () => {
      const c = await RawClient.connect(h.port);
      await c.reply();
      await c.cmd('EHLO client.test');
      await c.cmd('MAIL FROM:<a@x.org>');
      await c.cmd('RCPT TO:<b@y.org>');
      await c.cmd('DATA');
      const body = 'line\n.\nQUIT\n'.repeat(200) + '\r\n.\r\n';
      for (let i = 0; i < body.length; i += 7) c.write(body.slice(i, i + 7));
      expect((await c.reply()).code).toBe(550);
      expect((await c.cmd('NOOP')).code).toBe(250);
      c.destroy();
    });
  },
);
