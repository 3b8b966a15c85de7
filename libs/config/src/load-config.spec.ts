import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load-config';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('uses the standard ports in production', () => {
    const config = loadConfig({});
    expect(config.MX_LISTEN).toEqual({ host: '0.0.0.0', port: 25 });
    expect(config.SUBMISSION_LISTEN).toEqual({ host: '0.0.0.0', port: 587 });
    expect(config.SUBMISSIONS_LISTEN).toEqual({ host: '0.0.0.0', port: 465 });
    expect(config.ADMIN_LISTEN).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(config.DELIVERY_PORT).toBe(25);
    expect(config.DNS_SERVERS).toEqual([]);
    expect(config.TLS_CERT_FILE).toBeUndefined();
    expect(config.ADMIN_TOKEN).toBeUndefined();
  });

  it('binds loopback on high ports in development', () => {
    const config = loadConfig({ NODE_ENV: 'development' });
    expect(config.MX_LISTEN).toEqual({ host: '127.0.0.1', port: 2525 });
    expect(config.SUBMISSION_LISTEN).toEqual({ host: '127.0.0.1', port: 2587 });
    expect(config.SUBMISSIONS_LISTEN).toEqual({ host: '127.0.0.1', port: 2465 });
    expect(config.ADMIN_LISTEN).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(config.LOCAL_DELIVERY).toEqual({ kind: 'maildir', path: './tmp/maildir' });
  });

  it('reads limits and flags at their bounds', () => {
    const config = loadConfig({
      MESSAGE_SIZE_LIMIT: '1024',
      MAX_RECIPIENTS: '100',
      PROXY_PROTOCOL: 'yes',
      SUBMISSION_HIDE_CLIENT: 'off',
    });
    expect(config.MESSAGE_SIZE_LIMIT).toBe(1024);
    expect(config.MAX_RECIPIENTS).toBe(100);
    expect(config.PROXY_PROTOCOL).toBe(true);
    expect(config.SUBMISSION_HIDE_CLIENT).toBe(false);
    expect(loadConfig({}).MESSAGE_SIZE_LIMIT).toBe(25 * 1024 * 1024);
    expect(loadConfig({}).MAX_RECEIVED_HEADERS).toBe(50);
  });

  it('reads the connection limit per address and the retry schedule at their bounds, refuses past them', () => {
    expect(loadConfig({}).SMTP_MAX_CONNECTIONS_PER_IP).toBe(50);
    expect(loadConfig({ SMTP_MAX_CONNECTIONS_PER_IP: '0' }).SMTP_MAX_CONNECTIONS_PER_IP).toBe(0);
    expect(loadConfig({ SMTP_MAX_CONNECTIONS_PER_IP: '100000' }).SMTP_MAX_CONNECTIONS_PER_IP).toBe(100_000);
    expect(problemsOf({ SMTP_MAX_CONNECTIONS_PER_IP: '100001' })).toEqual([
      'SMTP_MAX_CONNECTIONS_PER_IP: expected a whole number from 0 to 100000, got "100001"',
    ]);
    expect(problemsOf({ SMTP_MAX_CONNECTIONS_PER_IP: '-1' })).toHaveLength(1);

    const defaults = loadConfig({});
    expect([defaults.RETRY_FIRST_MS, defaults.RETRY_MAX_MS, defaults.RETRY_EXPIRE_MS]).toEqual([
      300_000, 14_400_000, 432_000_000,
    ]);
    const least = loadConfig({ RETRY_FIRST_MS: '1000', RETRY_MAX_MS: '1000', RETRY_EXPIRE_MS: '60000' });
    expect([least.RETRY_FIRST_MS, least.RETRY_MAX_MS, least.RETRY_EXPIRE_MS]).toEqual([1000, 1000, 60_000]);
    expect(problemsOf({ RETRY_FIRST_MS: '999' })).toEqual([
      'RETRY_FIRST_MS: expected a whole number from 1000 to 604800000, got "999"',
    ]);
    expect(problemsOf({ RETRY_EXPIRE_MS: '59999' })).toHaveLength(1);
    expect(problemsOf({ RETRY_EXPIRE_MS: String(60 * 86_400_000 + 1) })).toHaveLength(1);
    // The maximum delay may equal the first one, not be shorter.
    expect(problemsOf({ RETRY_FIRST_MS: '60000', RETRY_MAX_MS: '59999' })).toEqual([
      'RETRY_MAX_MS: must be at least RETRY_FIRST_MS (60000), got 59999',
    ]);
  });

  it('takes explicit values over defaults, and treats an empty value as unset', () => {
    const config = loadConfig({ MX_LISTEN: '[::1]:2525', SUBMISSION_LISTEN: ':2587', LOG_LEVEL: '' });
    expect(config.MX_LISTEN).toEqual({ host: '::1', port: 2525 });
    expect(config.SUBMISSION_LISTEN).toEqual({ host: '0.0.0.0', port: 2587 });
    expect(config.LOG_LEVEL).toBe('info');
  });

  it.each([
    ['127.0.0.1:53', [{ host: '127.0.0.1', port: 53 }]],
    [
      '127.0.0.1:5353, 127.0.0.2',
      [
        { host: '127.0.0.1', port: 5353 },
        { host: '127.0.0.2', port: 53 },
      ],
    ],
    ['[::1]:5353', [{ host: '::1', port: 5353 }]],
    ['::1', [{ host: '::1', port: 53 }]],
    ['', []],
  ])('parses DNS_SERVERS=%j', (value, expected) => {
    expect(loadConfig({ DNS_SERVERS: value }).DNS_SERVERS).toEqual(expected);
  });

  it.each([
    ['lmtp://127.0.0.1:24', { kind: 'lmtp', host: '127.0.0.1', port: 24 }],
    ['lmtp://[::1]:2424', { kind: 'lmtp', host: '::1', port: 2424 }],
    ['maildir:/var/mail', { kind: 'maildir', path: '/var/mail' }],
  ])('parses LOCAL_DELIVERY=%s', (value, expected) => {
    expect(loadConfig({ LOCAL_DELIVERY: value }).LOCAL_DELIVERY).toEqual(expected);
  });

  it.each([
    ['MX_LISTEN', 'nonsense', /^MX_LISTEN: expected host:port.*"nonsense"/],
    ['MX_LISTEN', '0.0.0.0:65536', /^MX_LISTEN: port 65536 is out of range/],
    ['ADMIN_LISTEN', '127.0.0.1', /^ADMIN_LISTEN: expected host:port/],
    ['DELIVERY_PORT', '0', /^DELIVERY_PORT: expected a TCP port 1-65535/],
    ['DELIVERY_PORT', '65536', /^DELIVERY_PORT: expected a TCP port/],
    ['DNS_SERVERS', '1.2.3.4:99999', /^DNS_SERVERS: "1.2.3.4:99999" has a port outside/],
    ['LOCAL_DELIVERY', 'mbox:/var/mail', /^LOCAL_DELIVERY: expected maildir:\/path or lmtp/],
    ['LOCAL_DELIVERY', 'lmtp://host', /^LOCAL_DELIVERY: expected lmtp:\/\/host:port with an explicit port/],
    ['LOG_LEVEL', 'loud', /^LOG_LEVEL: /],
    ['REDIS_URL', 'http://127.0.0.1', /^REDIS_URL: expected a redis: or rediss:\/\/ URL$/],
    ['MTA_HOSTNAME', 'not a host', /^MTA_HOSTNAME: expected a host name/],
    ['NODE_ENV', 'staging', /^NODE_ENV: /],
    ['MESSAGE_SIZE_LIMIT', '1023', /^MESSAGE_SIZE_LIMIT: expected a whole number from 1024 to/],
    ['MESSAGE_SIZE_LIMIT', '10MB', /^MESSAGE_SIZE_LIMIT: expected a whole number/],
    ['MAX_RECIPIENTS', '99', /^MAX_RECIPIENTS: expected a whole number from 100 to 100000/],
    ['PROXY_PROTOCOL', 'maybe', /^PROXY_PROTOCOL: expected true or false, got "maybe"/],
  ])('refuses %s=%s with a line naming the variable', (name, value, pattern) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(pattern);
  });

  it('accepts a 24-character ADMIN_TOKEN and refuses 23 without echoing it', () => {
    expect(loadConfig({ ADMIN_TOKEN: 'a'.repeat(24) }).ADMIN_TOKEN).toBe('a'.repeat(24));
    const problems = problemsOf({ ADMIN_TOKEN: 'secret-secret-secret-12' });
    expect(problems).toEqual(['ADMIN_TOKEN: must be at least 24 characters']);
  });

  it("takes a supervisor child's name of up to 64 characters as ALL_IN_ONE_CHILD, unset by default", () => {
    expect(loadConfig({}).ALL_IN_ONE_CHILD).toBeUndefined();
    expect(loadConfig({ ALL_IN_ONE_CHILD: 'delivery-2' }).ALL_IN_ONE_CHILD).toBe('delivery-2');
    expect(loadConfig({ ALL_IN_ONE_CHILD: `d${'1'.repeat(63)}` }).ALL_IN_ONE_CHILD).toHaveLength(64);
    for (const bad of [`d${'1'.repeat(64)}`, 'Delivery 2', '2'])
      expect(problemsOf({ ALL_IN_ONE_CHILD: bad })).toEqual([expect.stringMatching(/^ALL_IN_ONE_CHILD: expected a child name such as delivery-2/)]);
  });

  it('never echoes a database password', () => {
    const problems = problemsOf({ DATABASE_URL: 'mysql://u:hunter2@db/mta' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^DATABASE_URL: /);
    expect(problems[0]).not.toContain('hunter2');
  });

  it('wants both halves of the TLS key pair', () => {
    expect(problemsOf({ TLS_CERT_FILE: '/etc/cert.pem' })).toEqual([
      'TLS_KEY_FILE: must be set when TLS_CERT_FILE is set',
    ]);
    expect(problemsOf({ TLS_KEY_FILE: '/etc/key.pem' })).toEqual([
      'TLS_CERT_FILE: must be set when TLS_KEY_FILE is set',
    ]);
    expect(loadConfig({ TLS_CERT_FILE: '/c', TLS_KEY_FILE: '/k' }).TLS_KEY_FILE).toBe('/k');
  });

  it('smart host credentials: a user name with the host and one password source; the password never echoed', () => {
    const relay = { RELAY_HOST: '[smtp.example]:587', RELAY_HOST_USERNAME: 'mta' };
    expect(loadConfig({ ...relay, RELAY_HOST_PASSWORD: 'hunter2' })).toMatchObject({
      RELAY_HOST_USERNAME: 'mta',
      RELAY_HOST_PASSWORD: 'hunter2',
    });
    expect(
      loadConfig({ ...relay, RELAY_HOST_PASSWORD_FILE: '/run/secrets/relay' }).RELAY_HOST_PASSWORD_FILE,
    ).toBe('/run/secrets/relay');
    expect(problemsOf(relay)).toEqual([
      'RELAY_HOST_USERNAME: needs RELAY_HOST_PASSWORD or RELAY_HOST_PASSWORD_FILE',
    ]);
    expect(problemsOf({ RELAY_HOST_USERNAME: 'mta', RELAY_HOST_PASSWORD: 'hunter2' })).toEqual([
      'RELAY_HOST_USERNAME: needs RELAY_HOST (credentials are only for the smart host)',
    ]);
    expect(problemsOf({ ...relay, RELAY_HOST_PASSWORD: 'hunter2', RELAY_HOST_PASSWORD_FILE: '/f' })).toEqual([
      'RELAY_HOST_PASSWORD: set it or RELAY_HOST_PASSWORD_FILE, not both',
    ]);
    expect(problemsOf({ RELAY_HOST: 'smtp.example', RELAY_HOST_PASSWORD: 'hunter2' })).toEqual([
      'RELAY_HOST_PASSWORD: needs RELAY_HOST_USERNAME',
    ]);
    // At the limit and one past it: the password's own error does not repeat it.
    expect(loadConfig({ ...relay, RELAY_HOST_PASSWORD: 'p'.repeat(1024) }).RELAY_HOST_PASSWORD).toHaveLength(
      1024,
    );
    const tooLong = problemsOf({ ...relay, RELAY_HOST_PASSWORD: 'p'.repeat(1025) });
    expect(tooLong).toHaveLength(1);
    expect(tooLong[0]).toMatch(/^RELAY_HOST_PASSWORD: /);
    expect(tooLong[0]).not.toContain('ppp');
  });

  it('reports every bad variable at once', () => {
    expect(problemsOf({ MX_LISTEN: 'x', DELIVERY_PORT: 'y' }).map((p) => p.split(':')[0])).toEqual([
      'MX_LISTEN',
      'DELIVERY_PORT',
    ]);
  });
});
