/**
 * One content rule for DATA and BDAT over a real socket (issue 17, items 1, 9, 10): a bare CR
 * and a NUL are refused by both, a bare LF is refused (`bareNewline: 'reject'`) or stored as
 * CRLF (`'normalize'`, the default), and the session stays in sync whatever happened.
 */
import type { BareNewlinePolicy } from '@mta/smtp-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.testutil';
import { RawClient } from './raw-client.testutil';

const harnesses = new Map<BareNewlinePolicy, Harness>();
beforeAll(async () => {
  harnesses.set('reject', await startHarness({ bareNewline: 'reject' }));
  harnesses.set('normalize', await startHarness({ bareNewline: 'normalize' }));
});
afterAll(async () => {
  for (const h of harnesses.values()) await h.close();
});

type Transfer = 'DATA' | 'BDAT';

/** Send one message by DATA (content already CRLF-terminated, dot-stuffed as given) or BDAT. */
async function send(
  h: Harness,
  transfer: Transfer,
  content: string,
): Promise<{ reply: string; stored: string | undefined }> {
  const before = h.messages.length;
  const c = await RawClient.connect(h.port);
  await c.reply();
  await c.cmd('EHLO client.test');
  await c.cmd('MAIL FROM:<a@x.org>');
  await c.cmd('RCPT TO:<b@y.org>');
  let reply: string;
  if (transfer === 'DATA') {
    expect((await c.cmd('DATA')).code).toBe(354);
    c.write(Buffer.from(`${content}.\r\n`, 'latin1'));
    reply = (await c.reply()).text;
  } else {
    c.write(Buffer.from(`BDAT ${Buffer.byteLength(content, 'latin1')} LAST\r\n${content}`, 'latin1'));
    reply = (await c.reply()).text;
  }
  // In sync: the next command is answered as a command.
  expect((await c.cmd('NOOP')).code).toBe(250);
  expect(c.unread).toBe('');
  c.destroy();
  const stored = h.messages.length > before ? h.messages.at(-1)?.body.toString('latin1') : undefined;
  return { reply, stored };
}

const BARE = '550 5.5.2 Message contains bare CR or LF; lines must end with CRLF';
const NUL = '550 5.6.0 Message contains a NUL character, which is not allowed in mail';

// [name, content, reply under reject, stored under reject, reply under normalize, stored under normalize]
const TABLE: [string, string, string, string | undefined, string, string | undefined][] = [
  [
    'clean CRLF',
    'Subject: x\r\n\r\nhi\r\n',
    '250',
    'Subject: x\r\n\r\nhi\r\n',
    '250',
    'Subject: x\r\n\r\nhi\r\n',
  ],
  ['bare LF', 'Subject: x\n\nhi\r\n', BARE, undefined, '250', 'Subject: x\r\n\r\nhi\r\n'],
  [
    'bare CR hiding a From',
    'Subject: hi\rFrom: ceo@victim.test\r\n\r\nx\r\n',
    BARE,
    undefined,
    BARE,
    undefined,
  ],
  ['bare CR at the end of a line', 'Subject: x\r\r\n\r\nhi\r\n', BARE, undefined, BARE, undefined],
  ['NUL', 'Subject: x\r\n\r\nh\x00i\r\n', NUL, undefined, NUL, undefined],
  ['NUL before a dot line', 'Subject: x\r\n\r\nhi\r\n\x00.\r\nafter\r\n', NUL, undefined, NUL, undefined],
];

describe.each(['DATA', 'BDAT'] as const)('%s: one rule for line endings and NUL', (transfer) => {
  it.each(TABLE)('%s', async (_name, content, rejectReply, rejectStored, normalizeReply, normalizeStored) => {
    for (const [policy, reply, stored] of [
      ['reject', rejectReply, rejectStored],
      ['normalize', normalizeReply, normalizeStored],
    ] as const) {
      const h = harnesses.get(policy) as Harness;
      const got = await send(h, transfer, content);
      if (reply === '250') expect(got.reply, policy).toMatch(/^250 /);
      else expect(got.reply, policy).toBe(reply);
      expect(got.stored, policy).toBe(stored);
    }
  });
});

describe('normalize keeps SMTP smuggling impossible', () => {
  it('LF . CRLF is not an end of data: the smuggled commands stay content and the message is refused', async () => {
    const h = harnesses.get('normalize') as Harness;
    const before = h.messages.length;
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.cmd('EHLO client.test');
    c.write('MAIL FROM:<a@x.org>\r\nRCPT TO:<b@y.org>\r\nDATA\r\n');
    await c.reply();
    await c.reply();
    expect((await c.reply()).code).toBe(354);
    c.write(
      'Subject: x\r\n\r\nhi\n.\r\nMAIL FROM:<admin@victim.org>\r\nRCPT TO:<x@y.org>\r\nDATA\r\nevil\r\n.\r\n',
    );
    expect((await c.reply()).text).toBe(BARE);
    expect(h.messages.length).toBe(before);
    expect((await c.cmd('RCPT TO:<z@y.org>')).code).toBe(503); // no smuggled transaction is open
    c.destroy();
  });
});
