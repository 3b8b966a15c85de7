/**
 * Issue 17 (session hardening): what an outside test found a client could do to a session of mx
 * or submission, tried with real clients (smtplib, swaks) against the real services.
 */
import net from 'node:net';
import { until } from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intakeFixture, type IntakeFixture } from './testing/intake-fixture';
import { lastReply, python, swaks } from './testing/peers';

const PASSWORD = 'correct horse battery staple';

describe('session hardening (mx and submission)', () => {
  let fx: IntakeFixture;
  let mx: number;
  let submission: number;

  beforeAll(async () => {
    fx = await intakeFixture();
    [mx] = (await fx.start('mx')).ports as [number];
    [submission] = (await fx.start('submission')).ports as [number];
  });
  afterAll(() => fx?.close());

  async function recipientsOf(queueId: string): Promise<string[]> {
    const message = await fx.db.message.findUniqueOrThrow({
      where: { queueId },
      include: { recipients: true },
    });
    return message.recipients.map((r) => r.address).sort();
  }

  /** Sends one message with these RCPT TO addresses (smtplib); prints each reply and the queue id. */
  async function send(
    port: number,
    to: string[],
    login: boolean,
  ): Promise<{ rcpt: number[]; queueId: string }> {
    const out = await python(
      port,
      `s = smtplib.SMTP('127.0.0.1', port)
s.ehlo('client.example')
${login ? `s.starttls(context=ssl._create_unverified_context())\ns.ehlo('client.example')\ns.login('alice@local.example', '${PASSWORD}')` : ''}
s.mail('${login ? 'alice@local.example' : 'bob@remote.example'}')
for to in ${JSON.stringify(to)}:
    print('rcpt', s.rcpt(to)[0])
code, msg = s.data(b'From: <${login ? 'alice@local.example' : 'bob@remote.example'}>\\r\\nSubject: dup\\r\\n\\r\\nhi\\r\\n')
print('data', code, msg.decode())
s.quit()`,
    );
    const rcpt = [...out.matchAll(/^rcpt (\d+)$/gm)].map((m) => Number(m[1]));
    const data = /^data (\d+) (.*)$/m.exec(out);
    expect(data?.[1], out).toBe('250');
    return { rcpt, queueId: /queued as ([0-9A-Z]{16})/.exec(data?.[2] ?? '')?.[1] ?? '' };
  }

  describe('HELO/EHLO names no longer than a domain can be (RFC 1035 §2.3.4)', () => {
    it('mx: 1,500 characters get 501 5.5.2; 255 pass, and the message is stored', async () => {
      const long = await python(
        mx,
        `s = smtplib.SMTP('127.0.0.1', port)
print(s.ehlo('h' * 1500)[0], s.helo('h' * 256)[0])`,
      );
      expect(long.trim()).toBe('501 501');
      const name = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`;
      const out = await python(
        mx,
        `s = smtplib.SMTP('127.0.0.1', port)
print(s.ehlo('${name}')[0])
s.sendmail('bob@remote.example', ['alice@local.example'], b'Subject: long helo\\r\\n\\r\\nhi\\r\\n')
print('ok')`,
      );
      expect(out).toBe('250\nok\n');
      const stored = await fx.db.message.findFirstOrThrow({ where: { subject: 'long helo' } });
      expect(stored.clientHelo).toBe(name);
    });
  });

  describe('slow clients: deadlines per command and for DATA (SMTP_*_TIMEOUT_MS)', () => {
    let slow: number;
    beforeAll(async () => {
      [slow] = (
        await fx.start('mx', {
          SMTP_COMMAND_TIMEOUT_MS: '1000',
          SMTP_DATA_TIMEOUT_MS: '1000',
          SMTP_DATA_PHASE_TIMEOUT_MS: '3000',
        })
      ).ports as [number];
    });

    /** Sends `commands` at once, then `slowly` a byte every 100 ms; everything the server said. */
    async function trickle(commands: string, slowly: string): Promise<{ said: string; unsent: number }> {
      const socket = net.connect(slow, '127.0.0.1');
      let said = '';
      let closed = false;
      socket.on('data', (d: Buffer) => (said += d.toString('latin1')));
      socket.on('error', () => undefined);
      socket.on('close', () => (closed = true));
      await until('the greeting', () => said.startsWith('220 '));
      socket.write(commands);
      let unsent = slowly;
      while (unsent !== '' && !closed) {
        socket.write(unsent.slice(0, 1));
        unsent = unsent.slice(1);
        await new Promise((r) => setTimeout(r, 100));
      }
      await until('the server closed the connection', () => closed);
      return { said, unsent: unsent.length };
    }

    it('before EHLO: a name sent a byte at a time gets 421 4.4.2 and the close', async () => {
      const t = await trickle('', `EHLO ${'x'.repeat(60)}.example\r\n`);
      expect(t.said).toMatch(/\r\n421 4\.4\.2 /);
      expect(t.unsent).toBeGreaterThan(0);
    });

    it('inside DATA: a body sent a byte at a time gets 421 4.4.2 and nothing is stored', async () => {
      const before = await fx.db.message.count();
      const t = await trickle(
        'EHLO client.example\r\nMAIL FROM:<bob@remote.example>\r\nRCPT TO:<alice@local.example>\r\nDATA\r\n',
        `Subject: slow\r\n\r\n${'z'.repeat(100)}\r\n.\r\n`,
      );
      expect(t.said).toMatch(/\r\n354 [^]*\r\n421 4\.4\.2 /);
      expect(t.unsent).toBeGreaterThan(0);
      expect(await fx.db.message.count()).toBe(before);
    });
  });

  describe('AUTH: guesses lock an account out for their network only (swaks from 127.0.0.x)', () => {
    const login = (user: string, password: string, from: string) =>
      swaks(submission, [
        '--tls',
        '--local-interface',
        from,
        '--auth',
        'PLAIN',
        '--auth-user',
        user,
        '--auth-password',
        password,
        '--quit-after',
        'AUTH',
      ]);

    it('five wrong passwords from 127.0.0.1 lock 127.0.0.0/24 out; the owner from 127.0.1.1 gets in', async () => {
      const victim = 'erin@local.example';
      const domain = await fx.db.domain.findUniqueOrThrow({ where: { name: 'local.example' } });
      const alice = await fx.db.account.findUniqueOrThrow({ where: { address: 'alice@local.example' } });
      await fx.db.account.create({
        data: { address: victim, passwordHash: alice.passwordHash, domainId: domain.id },
      });
      for (let i = 0; i < 5; i++) {
        const t = await login(victim, `guess-${i}`, '127.0.0.1');
        expect(lastReply(t, '535'), t.output).toMatch(/^535 5\.7\.8/);
      }
      const sameNetwork = await login(victim, PASSWORD, '127.0.0.2');
      expect(lastReply(sameNetwork, '454'), sameNetwork.output).toMatch(/^454 4\.7\.0/);
      const owner = await login(victim, PASSWORD, '127.0.1.1');
      expect(lastReply(owner, '235'), owner.output).toMatch(/^235 2\.7\.0/);
      // Her success elsewhere does not open the guessers' network again.
      const again = await login(victim, PASSWORD, '127.0.0.3');
      expect(lastReply(again, '454'), again.output).toMatch(/^454 4\.7\.0/);
    });
  });

  describe('a repeated recipient is stored once (RFC 5321 §3.3)', () => {
    it('mx: the same local mailbox twice, in another case, and quoted', async () => {
      const t = await send(
        mx,
        ['alice@local.example', 'alice@local.example', 'ALICE@LOCAL.EXAMPLE', '<"alice"@local.example>'],
        false,
      );
      expect(t.rcpt).toEqual([250, 250, 250, 250]);
      expect(await recipientsOf(t.queueId)).toEqual(['alice@local.example']);
    });

    it('mx: a relayed address twice, the domain in another case, the local part quoted', async () => {
      const t = await send(
        mx,
        ['carol@relay.example', 'carol@RELAY.EXAMPLE', '<"carol"@relay.example>'],
        false,
      );
      expect(t.rcpt).toEqual([250, 250, 250]);
      expect(await recipientsOf(t.queueId)).toEqual(['carol@relay.example']);
    });

    it('submission: a remote address twice, the domain in another case, the local part quoted', async () => {
      const t = await send(
        submission,
        ['friend@remote.example', 'friend@REMOTE.example', '"friend"@remote.example'],
        true,
      );
      expect(t.rcpt).toEqual([250, 250, 250]);
      expect(await recipientsOf(t.queueId)).toEqual(['friend@remote.example']);
    });
  });
});
