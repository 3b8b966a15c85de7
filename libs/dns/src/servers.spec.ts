import { describe, expect, it } from 'vitest';
import { parseServer, resolveServers } from './servers';

describe('DNS servers', () => {
  it.each([
    ['192.0.2.53', { host: '192.0.2.53', port: 53 }],
    ['127.0.0.1:5353', { host: '127.0.0.1', port: 5353 }],
    ['::1', { host: '::1', port: 53 }],
    ['[::1]:5353', { host: '::1', port: 5353 }],
    ['2001:db8::53', { host: '2001:db8::53', port: 53 }],
  ])('parses %s as Node prints it', (text, expected) => {
    expect(parseServer(text)).toEqual(expected);
  });

  it('takes the configured list, without brackets around IPv6', () => {
    expect(resolveServers([{ host: '[::1]', port: 5353 }])).toEqual([{ host: '::1', port: 5353 }]);
  });

  it('falls back to the system resolvers when the list is empty', () => {
    const servers = resolveServers([]);
    expect(servers.length).toBeGreaterThan(0);
    for (const s of servers) expect(s.port).toBeGreaterThan(0);
  });

  it('refuses names and bad ports', () => {
    expect(() => resolveServers([{ host: 'dns.example', port: 53 }])).toThrow(/must be an IP address/);
    expect(() => resolveServers([{ host: '127.0.0.1', port: 0 }])).toThrow(/invalid port/);
  });
});
