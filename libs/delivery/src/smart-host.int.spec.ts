/**
 * Smart host credentials (RELAY_HOST_USERNAME / _PASSWORD / _PASSWORD_FILE) against a real peer
 * that requires AUTH: nodemailer's smtp-server on loopback with STARTTLS (RFC 3207) and AUTH
 * PLAIN/LOGIN (RFC 4954). The credentials go only inside TLS (RFC 4954 §4); a peer without
 * STARTTLS never sees them, and the mail waits.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { createTestRedis, selfSignedCertificate, type TestCertificate } from '@mta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryAgent } from './contract';
import { message, request } from './test/fixtures';
import { createDeliveryAgents, relayCredentials, type RelayAuthSettings } from './worker/agents';

const USER = 'relay-user';
const PASSWORD = 'Sm4rt-host pa55word';

interface Peer {
  port: number;
  logins: string[];
  received: { from: string; to: string[]; secure: boolean }[];
  stop(): Promise<void>;
}

/** A smart host that requires AUTH before MAIL (smtp-server's default with onAuth). */
async function startPeer(cert: TestCertificate, options: Partial<SMTPServerOptions> = {}): Promise<Peer> {
  const logins: string[] = [];
  const received: Peer['received'] = [];
  const server = new SMTPServer({
    name: 'smarthost.test',
    key: cert.key,
    cert: cert.cert,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    closeTimeout: 200,
    onAuth(auth, _session, cb) {
      logins.push(auth.username ?? '');
      if (auth.username === USER && auth.password === PASSWORD) cb(null, { user: USER });
      else cb(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
    },
    onData(stream, session, cb) {
      stream.resume();
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          secure: session.secure,
        });
        cb(null);
      });
    },
    ...options,
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    logins,
    received,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('smart host with credentials (RELAY_HOST_USERNAME)', () => {
  let cert: TestCertificate;
  let test: Awaited<ReturnType<typeof createTestRedis>>;
  let redis: Redis;
  let dir: string;
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    cert = await selfSignedCertificate(['smarthost.test']);
    test = await createTestRedis();
    redis = new Redis(test.url, { maxRetriesPerRequest: 1 });
    dir = mkdtempSync(path.join(tmpdir(), 'relay-secret-'));
  });
  afterAll(async () => {
    for (const c of cleanup.splice(0)) await c();
    redis?.disconnect();
    await test?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  async function smartHost(peer: Peer, relayAuth: RelayAuthSettings): Promise<DeliveryAgent> {
    const agents = createDeliveryAgents({
      hostname: 'mta.example.org',
      dnsServers: [],
      port: 25,
      local: { kind: 'maildir', path: dir },
      relayHost: `[127.0.0.1]:${peer.port}`,
      relayAuth,
      redis,
      prefix: test.prefix,
    });
    cleanup.push(() => agents.close());
    if (!agents.smartHost) throw new Error('no smart host agent');
    return agents.smartHost;
  }

  it('logs in over STARTTLS and delivers, with the password from the variable or from a file', async () => {
    const peer = await startPeer(cert);
    cleanup.push(() => peer.stop());
    const file = path.join(dir, 'password');
    writeFileSync(file, `${PASSWORD}\n`, { mode: 0o600 }); // as `kubectl create secret` or echo writes it
    for (const [i, auth] of [
      { username: USER, password: PASSWORD },
      { username: USER, passwordFile: file },
    ].entries()) {
      const agent = await smartHost(peer, auth);
      const report = await agent.deliver(request(['friend@remote.example'], message(`relay-${i}`)));
      expect(report.results[0]).toMatchObject({ kind: 'delivered', code: 250, source: 'remote' });
      expect(report.results[0].tls?.protocol).toMatch(/^TLSv1\.[23]$/);
    }
    expect(peer.logins).toEqual([USER, USER]);
    expect(peer.received).toEqual([
      { from: 'sender@example.org', to: ['friend@remote.example'], secure: true },
      { from: 'sender@example.org', to: ['friend@remote.example'], secure: true },
    ]);
  });

  it('defers the mail on a refused login (535), without the password in the result', async () => {
    const peer = await startPeer(cert);
    cleanup.push(() => peer.stop());
    const wrong = 'not-the-Pa55word';
    const agent = await smartHost(peer, { username: USER, password: wrong });
    const report = await agent.deliver(request(['friend@remote.example'], message('relay-wrong')));
    expect(report.results[0]).toMatchObject({ kind: 'deferred', code: 535 });
    expect(JSON.stringify(report)).not.toContain(wrong);
    expect(JSON.stringify(report)).not.toContain(Buffer.from(wrong).toString('base64'));
    expect(peer.received).toHaveLength(0);
  });

  it('never sends the credentials to a smart host without STARTTLS: the mail waits (4.7.4)', async () => {
    // This peer would take AUTH in clear text: the client must not offer it the chance.
    const peer = await startPeer(cert, { hideSTARTTLS: true, allowInsecureAuth: true });
    cleanup.push(() => peer.stop());
    const agent = await smartHost(peer, { username: USER, password: PASSWORD });
    const report = await agent.deliver(request(['friend@remote.example'], message('relay-clear')));
    expect(report.results[0]).toMatchObject({ kind: 'deferred', enhanced: '4.7.4', source: 'local' });
    expect(peer.logins).toEqual([]);
    expect(peer.received).toHaveLength(0);
  });

  it('refuses to start with an unreadable or empty password file, naming it and nothing more', () => {
    const missing = path.join(dir, 'missing');
    expect(() => relayCredentials({ username: USER, passwordFile: missing })).toThrow(
      `RELAY_HOST_PASSWORD_FILE: cannot read ${missing} (ENOENT)`,
    );
    const empty = path.join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(() => relayCredentials({ username: USER, passwordFile: empty })).toThrow(
      `RELAY_HOST_PASSWORD_FILE: ${empty} is empty`,
    );
    // Only one trailing newline goes: a password may end in spaces or a newline of its own.
    const kept = path.join(dir, 'kept');
    writeFileSync(kept, 'pass \n\n');
    expect(relayCredentials({ username: USER, passwordFile: kept }).password).toBe('pass \n');
  });
});
