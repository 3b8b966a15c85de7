/**
 * REQUIRETLS (RFC 8689) on mx: offered once TLS is up, refused (555 5.5.4) before, and the flag
 * stored with the message for delivery to honour. Python's smtplib is the client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intakeFixture, type IntakeFixture } from './testing/intake-fixture';
import { python } from './testing/peers';

describe('mx and REQUIRETLS (RFC 8689)', () => {
  let fx: IntakeFixture;
  let port: number;

  beforeAll(async () => {
    fx = await intakeFixture();
    [port] = (await fx.start('mx')).ports as [number];
  });
  afterAll(() => fx?.close());

  it('offers REQUIRETLS only over TLS and stores the flag with the message (RFC 8689 §4.1)', async () => {
    const out = await python(
      port,
      `s = smtplib.SMTP('127.0.0.1', port)
s.ehlo('client.example')
print('before', s.has_extn('requiretls'), s.mail('req@remote.example', ['REQUIRETLS'])[0])
s.rset()
s.starttls()
s.ehlo('client.example')
print('after', s.has_extn('requiretls'))
s.sendmail('req@remote.example', ['alice@local.example'], b'Subject: requiretls\\r\\n\\r\\nx\\r\\n', mail_options=['REQUIRETLS'])
s.quit()`,
    );
    expect(out.trim().split('\n')).toEqual(['before False 555', 'after True']);
    const message = await fx.db.message.findFirstOrThrow({ where: { sender: 'req@remote.example' } });
    expect(message.requireTls).toBe(true);
  });
});
