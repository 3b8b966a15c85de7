/** STARTTLS (RFC 3207), implicit TLS (RFC 8314), AUTH (RFC 4954) and what depends on TLS. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate, type TestCertificate } from '@mta/testing';
import { SmtpError } from '@mta/smtp-protocol';
import { startHarness, type Harness } from './harness.testutil';
import { RawClient } from './raw-client.testutil';

let cert: TestCertificate;
let h: Harness | null = null;
beforeAll(async () => {
  cert = await selfSignedCertificate(['localhost']);
});
afterEach(async () => {
  await h?.close();
  h = null;
});
afterAll(() => undefined);

const b64 = (s: string) => Buffer.from(s).toString('base64');
const auth = {
  onAuth: (_s: unknown, c: { username: string; password: string }) =>
    c.username === 'alice' && c.password === 's3cret',
};

async function tlsHarness(extra: Parameters<typeof startHarness>[0] = {}) {
  return startHarness(
    { tls: { key: cert.key, cert: cert.cert }, ...extra },
    [{}, { implicitTls: true }],
    auth,
  );
}

describe('STARTTLS (RFC 3207)', () => {
  it('advertises STARTTLS and no AUTH before TLS; after TLS, AUTH and no STARTTLS', async () => {
    h = await tlsHarness();
    const c = await RawClient.connect(h.port);
    await c.reply();
    const before = (await c.cmd('EHLO c')).lines.map((l) => l.slice(4));
    expect(before).toContain('STARTTLS');
    expect(before.some((l) => l.startsWith('AUTH'))).toBe(false);
    expect(before).not.toContain('REQUIRETLS');
    // RFC 4954 §6: no AUTH in clear text (538 5.7.11, or 530 5.7.0 from older protocol versions).
    expect((await c.cmd(`AUTH PLAIN ${b64('\0alice\0s3cret')}`)).text).toMatch(
      /^(538 5\.7\.11|530 5\.7\.0) /,
    );
    expect((await c.cmd('STARTTLS')).text).toBe('220 2.0.0 Ready to start TLS');
    await c.startTls();
    // RFC 3207 §4.2: the session forgot the EHLO.
    expect((await c.cmd('MAIL FROM:<a@x.org>')).code).toBe(503);
    const after = (await c.cmd('EHLO c')).lines.map((l) => l.slice(4));
    expect(after).not.toContain('STARTTLS');
    expect(after).toContain('AUTH PLAIN LOGIN');
    // RFC 8689 is opt-in (options.ts): nothing downstream could honour it.
    expect(after).not.toContain('REQUIRETLS');
    expect((await c.cmd('STARTTLS')).code).toBe(503);
    expect((await c.cmd(`AUTH PLAIN ${b64('\0alice\0s3cret')}`)).text).toBe(
      '235 2.7.0 Authentication successful',
    );
    await c.cmd('MAIL FROM:<alice@x.org> AUTH=<alice@x.org>');
    await c.cmd('RCPT TO:<b@y.org>');
    await c.cmd('DATA');
    expect((await c.cmd('hi\r\n.')).code).toBe(250);
    const m = h.messages[0];
    expect(m.session.user).toBe('alice');
    expect(m.session.protocol).toBe('ESMTPSA');
    expect(m.envelope.protocol).toBe('ESMTPSA');
    expect(m.envelope.mailParams.auth?.raw).toBe('alice@x.org');
    expect(m.session.tls?.mode).toBe('starttls');
    expect(m.session.tls?.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(m.session.tls?.cipher).toBeTruthy();
    c.destroy();
  });

  it('discards commands pipelined with STARTTLS (CVE-2011-0411 class)', async () => {
    h = await tlsHarness();
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.cmd('EHLO c');
    c.write('STARTTLS\r\nRSET\r\nMAIL FROM:<injected@x.org>\r\n');
    expect((await c.reply()).code).toBe(220);
    await c.startTls();
    // Had the RSET or MAIL been kept, their replies would arrive now (inside TLS).
    expect((await c.cmd('NOOP')).text).toBe('250 2.0.0 OK');
    expect(c.unread).toBe('');
    await c.cmd('EHLO c');
    expect((await c.cmd('RCPT TO:<b@y.org>')).code).toBe(503); // no MAIL was injected
    c.destroy();
  });

  it('a failed handshake closes the connection', async () => {
    h = await tlsHarness();
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.cmd('EHLO c');
    await c.cmd('STARTTLS');
    c.write('this is not a TLS ClientHello\r\n');
    await c.closed;
  });
});

describe('implicit TLS (RFC 8314)', () => {
  it('greets inside TLS, offers AUTH but not STARTTLS', async () => {
    h = await tlsHarness();
    const c = await RawClient.connect(h.ports[1], { tls: true });
    expect((await c.reply()).code).toBe(220);
    const ext = (await c.cmd('EHLO c')).lines.map((l) => l.slice(4));
    expect(ext).not.toContain('STARTTLS');
    expect(ext).toContain('AUTH PLAIN LOGIN');
    c.destroy();
  });
});

describe('REQUIRETLS (RFC 8689)', () => {
  it('is not advertised by default, even over TLS, and the parameter is refused as unknown', async () => {
    h = await tlsHarness();
    const c = await RawClient.connect(h.ports[1], { tls: true });
    await c.reply();
    expect((await c.cmd('EHLO c')).lines.map((l) => l.slice(4))).not.toContain('REQUIRETLS');
    expect((await c.cmd('MAIL FROM:<a@x.org> REQUIRETLS')).text).toBe(
      '555 5.5.4 Unsupported MAIL FROM or RCPT TO parameter REQUIRETLS',
    );
    // The session goes on: a MAIL without it is accepted.
    expect((await c.cmd('MAIL FROM:<a@x.org>')).code).toBe(250);
    c.destroy();
  });

  it('when turned on, is offered over TLS only and accepted there', async () => {
    h = await tlsHarness({ extensions: { requireTls: true } });
    const plain = await RawClient.connect(h.port);
    await plain.reply();
    expect((await plain.cmd('EHLO c')).lines.map((l) => l.slice(4))).not.toContain('REQUIRETLS');
    expect((await plain.cmd('MAIL FROM:<a@x.org> REQUIRETLS')).code).toBe(555);
    plain.destroy();
    const c = await RawClient.connect(h.ports[1], { tls: true });
    await c.reply();
    expect((await c.cmd('EHLO c')).lines.map((l) => l.slice(4))).toContain('REQUIRETLS');
    expect((await c.cmd('MAIL FROM:<a@x.org> REQUIRETLS')).code).toBe(250);
    c.destroy();
  });
});

describe('AUTH (RFC 4954)', () => {
  it('LOGIN, failures counted, cancel, bad base64, no second AUTH', async () => {
    h = await tlsHarness({ maxBadCommands: 10 });
    const c = await RawClient.connect(h.ports[1], { tls: true });
    await c.reply();
    await c.cmd('EHLO c');
    expect((await c.cmd('AUTH LOGIN')).text).toBe('334 VXNlcm5hbWU6');
    expect((await c.cmd(b64('alice'))).text).toBe('334 UGFzc3dvcmQ6');
    expect((await c.cmd(b64('wrong'))).text).toBe('535 5.7.8 Authentication credentials invalid');
    expect((await c.cmd('AUTH PLAIN')).text).toBe('334 ');
    expect((await c.cmd('*')).text).toBe('501 5.0.0 Authentication cancelled');
    expect((await c.cmd('AUTH PLAIN !!!')).text).toBe('501 5.5.2 Invalid base64 data');
    expect((await c.cmd('AUTH CRAM-MD5')).code).toBe(504);
    expect((await c.cmd('AUTH LOGIN ' + b64('alice'))).code).toBe(334);
    expect((await c.cmd(b64('s3cret'))).code).toBe(235);
    expect((await c.cmd('AUTH PLAIN ' + b64('\0alice\0s3cret'))).code).toBe(503);
    c.destroy();
  });

  it('AUTH= from an unauthenticated client is treated as <> (RFC 4954 §5)', async () => {
    const seen: unknown[] = [];
    h = await startHarness({ authWithoutTls: true }, [{}], {
      ...auth,
      onMailFrom: (_s, m) => void seen.push(m.params.auth),
    });
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.cmd('EHLO c');
    await c.cmd('MAIL FROM:<a@x.org> AUTH=<ceo@x.org>');
    await c.cmd('RCPT TO:<b@y.org>');
    await c.cmd('DATA');
    await c.cmd('x\r\n.');
    expect(seen).toEqual([null]);
    expect(h.messages[0].envelope.mailParams.auth).toBeNull();
    c.destroy();
  });

  it('a crashing onAuth gives 454 4.7.0; an SmtpError is passed through', async () => {
    h = await startHarness({ tls: { key: cert.key, cert: cert.cert } }, [{ implicitTls: true }], {
      onAuth: (_s, c) => {
        if (c.username === 'locked') throw new SmtpError(535, '5.7.8', 'Account locked');
        throw new Error('ldap down');
      },
    });
    const c = await RawClient.connect(h.port, { tls: true });
    await c.reply();
    await c.cmd('EHLO c');
    expect((await c.cmd('AUTH PLAIN ' + b64('\0bob\0pw'))).text).toBe(
      '454 4.7.0 Temporary authentication failure',
    );
    expect((await c.cmd('AUTH PLAIN ' + b64('\0locked\0pw'))).text).toBe('535 5.7.8 Account locked');
    c.destroy();
  });

  it('requireAuth on a listener: MAIL needs AUTH (530 5.7.0)', async () => {
    h = await startHarness(
      { tls: { key: cert.key, cert: cert.cert } },
      [{ implicitTls: true, requireAuth: true }],
      auth,
    );
    const c = await RawClient.connect(h.port, { tls: true });
    await c.reply();
    await c.cmd('EHLO c');
    expect((await c.cmd('MAIL FROM:<a@x.org>')).text).toBe('530 5.7.0 Authentication required');
    await c.cmd('AUTH PLAIN ' + b64('\0alice\0s3cret'));
    expect((await c.cmd('MAIL FROM:<a@x.org>')).code).toBe(250);
    c.destroy();
  });
});
