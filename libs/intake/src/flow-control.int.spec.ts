import { rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { sleep } from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intakeFixture, type IntakeFixture } from './testing/intake-fixture';

// Flow control end to end: real PostgreSQL made slow by a lock the test holds, real clients
// (Python's smtplib, 30 sessions in threads). Flow control acts only while its process is busy
// (CPU-bound commits); a lock makes the commits slow without that, so the test says the process
// is busy. The algorithm itself is in flow-control.spec.ts.

const MAX_DELAY_MS = 300;
/** Each lock holds every commit this long: far longer than a MAIL may wait. */
const LOCK_MS = 1500;

describe('mx flow control when commits fall behind', () => {
  let fx: IntakeFixture;
  let port: number;

  beforeAll(async () => {
    fx = await intakeFixture();
    [port] = (
      await fx.start(
        'mx',
        { INTAKE_FLOW_TARGET_MS: '5', INTAKE_FLOW_MAX_DELAY_MS: String(MAX_DELAY_MS) },
        { flowControl: { cpuLoad: () => 1 } },
      )
    ).ports as [number];
  });
  afterAll(() => fx?.close());

  /** Holds a lock that every message insert waits for, `ms` long. */
  const slowCommits = (ms: number) =>
    fx.db.$transaction(
      async (tx) => {
        await tx.$executeRawUnsafe('LOCK TABLE message_chunks IN SHARE MODE');
        await sleep(ms);
      },
      { timeout: ms + 10_000 },
    );

  it('holds MAIL FROM (at most INTAKE_FLOW_MAX_DELAY_MS), refuses nothing and loses nothing', async () => {
    const stop = `/tmp/mx-flow-${randomBytes(4).toString('hex')}`;
    const child = spawn('python3', [
      '-c',
      `import smtplib, threading, time, os
port = ${port}
lock = threading.Lock()
waits, mail_codes, data_codes = [], [], []
def session(n):
    s = smtplib.SMTP('127.0.0.1', port)
    s.ehlo('client.example')
    i = 0
    while not os.path.exists('${stop}'):
        t0 = time.monotonic()
        code, _ = s.mail('flow@remote.example')
        waited = time.monotonic() - t0
        s.rcpt('alice@local.example')
        dcode, _ = s.data(b'Subject: flow %d.%d\\r\\n\\r\\nbody\\r\\n' % (n, i))
        with lock:
            waits.append(waited); mail_codes.append(code); data_codes.append(dcode)
        i += 1
    s.quit()
threads = [threading.Thread(target=session, args=(n,)) for n in range(30)]
for t in threads: t.start()
for t in threads: t.join()
print(len(data_codes), sum(1 for c in data_codes if c == 250), sum(1 for c in mail_codes if c == 250), max(waits))`,
    ]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise((resolve) => child.on('close', resolve));

    await sleep(700); // quick commits first: the baseline
    await slowCommits(LOCK_MS);
    await sleep(700);
    await slowCommits(LOCK_MS);
    await sleep(700);
    writeFileSync(stop, '');
    await exited;
    rmSync(stop, { force: true });

    const [sent, dataOk, mailOk] = out.trim().split(' ').map(Number);
    expect(err).toBe('');
    expect(sent).toBeGreaterThan(30);
    expect(dataOk).toBe(sent);
    expect(mailOk).toBe(sent);
    expect(await fx.db.message.count({ where: { sender: 'flow@remote.example' } })).toBe(sent);

    const metrics = await fx.metrics.registry.metrics();
    const delayed = [...metrics.matchAll(/^mta_intake_flow_delay_seconds_count\{[^}]*\} (\d+)/gm)];
    // Flow control held MAILs (and each went on: every MAIL and every DATA above got its 250).
    // That a held MAIL goes ahead after INTAKE_FLOW_MAX_DELAY_MS, whatever the commits do, is
    // flow-control.spec.ts's, on a clock of its own: this machine's would only time itself.
    expect(delayed.reduce((n, m) => n + Number(m[1]), 0)).toBeGreaterThan(0);
  });
});
