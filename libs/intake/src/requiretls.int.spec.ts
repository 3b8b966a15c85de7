/**
 * REQUIRETLS (RFC 8689) is not offered by mx, even over TLS: nothing downstream could honour it
 * (it needs MTA-STS or DANE for the next hop), so the parameter gets 555 5.5.4 like any unknown
 * one instead of being accepted and dropped. Python's smtplib is the client.
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

  it('does not advertise it after STARTTLS, and refuses the MAIL parameter with 555 5.5.4', async () => {
    const out = await python(
      port,
      `s = smtplib.SMTP('127.0.0.1', port)
s.ehlo('client.example')
s.starttls(context=ssl._create_unverified_context())
s.ehlo('client.example')
print('starttls' in s.esmtp_features, 'requiretls' in s.esmtp_features)
code, msg = s.docmd('MAIL FROM:<bob@remote.example> REQUIRETLS')
print(code, msg.decode())
code, msg = s.docmd('MAIL FROM:<bob@remote.example>')
print(code)
s.quit()`,
    );
    expect(out.trim().split('\n')).toEqual([
      'False False',
      '555 5.5.4 Unsupported MAIL FROM or RCPT TO parameter REQUIRETLS',
      '250',
    ]);
  });
});
