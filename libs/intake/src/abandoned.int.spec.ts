import net from 'node:net';
import { PassThrough } from 'node:stream';
import { createLogger } from '@mta/observability';
import { collectJsonLogs, until } from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intakeFixture, type IntakeFixture } from './testing/intake-fixture';

/**
 * A client that gives up mid-body (closes the connection, or resets a BDAT transaction) is an
 * abandoned transaction, not a failure of ours: one `transaction abandoned` line at info, no
 * `intake failed` error line, nothing stored. (The fuzzer of bench/chaos counted these as errors.)
 */
describe('a client that gives up mid-body', () => {
  let fx: IntakeFixture;
  let port: number;
  let logs: Record<string, unknown>[];

  beforeAll(async () => {
    fx = await intakeFixture();
    const out = new PassThrough();
    logs = collectJsonLogs(out, 'mx-abandoned');
    const started = await fx.start('mx', {}, { logger: createLogger('mx', 'info', out) });
    [port] = started.ports as [number];
  });
  afterAll(() => fx?.close());

  /** Sends `lines` one at a time, each after the previous reply, then `rest` without waiting. */
  async function session(lines: string[], rest: string, end: 'close' | 'keep'): Promise<string[]> {
    const socket = net.connect(port, '127.0.0.1');
    const replies: string[] = [];
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      const complete = buffered.split('\r\n');
      buffered = complete.pop() ?? '';
      replies.push(...complete.filter((l) => /^\d{3} /.test(l)));
    });
    await until('the greeting', () => replies.length >= 1);
    for (const [i, line] of lines.entries()) {
      socket.write(`${line}\r\n`);
      await until(`the reply to ${line.split('\r\n')[0]}`, () => replies.length >= i + 2);
    }
    socket.write(rest);
    if (end === 'close') socket.destroy();
    else {
      socket.write('RSET\r\n');
      await until('the reply to RSET', () => replies.length >= lines.length + 2);
      socket.end('QUIT\r\n');
    }
    return replies;
  }

  const ofSession = (id: unknown) => logs.filter((l) => l['session'] === id);

  it.each([
    ['DATA, connection closed', ['DATA'], 'Subject: half\r\n\r\nnot all of it', 'close'],
    ['BDAT, connection closed', [], 'BDAT 100 LAST\r\nSubject: half\r\n', 'close'],
    ['BDAT, then RSET', ['BDAT 20\r\nSubject: one chunk\r\n'], '', 'keep'],
  ] as const)('%s: abandoned at info, no error line', async (_name, body, rest, end) => {
    const before = await fx.db.message.count();
    const start = ['EHLO client.example', 'MAIL FROM:<x@remote.example>', 'RCPT TO:<alice@local.example>'];
    // A BDAT line carries its chunk in the same write: the reply follows the chunk.
    await session([...start, ...body.map((l) => l.replace(/\r\n$/, ''))], rest, end);
    const abandoned = await until('the transaction log line', () =>
      logs.find((l) => l['msg'] === 'transaction abandoned'),
    );
    const mine = ofSession(abandoned['session']);
    expect(mine.filter((l) => l['level'] === 'error')).toEqual([]);
    expect(mine.some((l) => l['msg'] === 'intake failed')).toBe(false);
    expect(await fx.db.message.count()).toBe(before);
    logs.splice(0);
  });
});
