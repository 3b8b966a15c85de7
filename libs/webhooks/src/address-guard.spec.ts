import { describe, expect, it } from 'vitest';
import { checkWebhookUrl, forbiddenReason } from './address-guard';

describe('forbiddenReason (SSRF guard)', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private (RFC 1918)'],
    ['172.16.0.1', 'private (RFC 1918)'],
    ['172.31.255.255', 'private (RFC 1918)'],
    ['192.168.1.1', 'private (RFC 1918)'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'shared address space (RFC 6598)'],
    ['0.0.0.0', 'unspecified ("this network")'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['198.18.0.1', 'benchmarking (RFC 2544)'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fd12:3456::1', 'unique local (RFC 4193)'],
    ['fc00::1', 'unique local (RFC 4193)'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'IPv4 inside IPv6, loopback'],
    ['::ffff:7f00:1', 'IPv4 inside IPv6, loopback'],
    ['::ffff:10.0.0.1', 'IPv4 inside IPv6, private (RFC 1918)'],
    ['::ffff:a9fe:a9fe', 'IPv4 inside IPv6, link-local'],
    ['64:ff9b::7f00:1', 'IPv4 inside IPv6, loopback'],
    ['::127.0.0.1', 'IPv4-compatible (deprecated)'],
  ])('%s is %s', (address, reason) => {
    expect(forbiddenReason(address)).toBe(reason);
  });

  it.each([
    '1.1.1.1',
    '93.184.216.34',
    '172.15.255.255', // just below 172.16/12
    '172.32.0.0', // just above
    '100.63.255.255', // just below 100.64/10
    '100.128.0.0', // just above
    '169.253.255.255',
    '2606:4700:4700::1111',
    '::ffff:1.1.1.1',
    '64:ff9b::101:101',
    'fbff:ffff::1', // just below fc00::/7
  ])('%s is public', (address) => {
    expect(forbiddenReason(address)).toBeNull();
  });

  it('is not fooled by a non-address', () => {
    expect(forbiddenReason('localhost')).toBe('not an IP address');
  });
});

describe('checkWebhookUrl', () => {
  it.each([
    ['ftp://example.com/x', /only http:\/\/ and https:\/\//],
    ['file:///etc/passwd', /only http:\/\/ and https:\/\//],
    ['not a url', /absolute http/],
    ['https://user:pw@example.com/', /user name or password/],
    ['http://127.0.0.1:8080/hook', /127\.0\.0\.1 is a loopback address; set WEBHOOK_ALLOW_PRIVATE=true/],
    ['http://[::1]/hook', /::1 is a loopback address/],
    ['http://[::ffff:127.0.0.1]/hook', /IPv4 inside IPv6, loopback/],
    ['http://169.254.169.254/latest/meta-data', /link-local/],
    ['http://2130706433/', /loopback/], // the WHATWG URL parser makes 127.0.0.1 of it
    ['http://0x7f.1/', /loopback/],
    ['http://localhost:3000/', /loopback name/],
    ['http://api.localhost/', /loopback name/],
  ])('refuses %s', (url, message) => {
    const result = checkWebhookUrl(url, false);
    expect(typeof result).toBe('string');
    expect(result).toMatch(message);
  });

  it('accepts public http(s) URLs, and private ones with WEBHOOK_ALLOW_PRIVATE', () => {
    expect(checkWebhookUrl('https://hooks.example.com/mta?x=1', false)).toBeInstanceOf(URL);
    expect(checkWebhookUrl('http://93.184.216.34/', false)).toBeInstanceOf(URL);
    expect(checkWebhookUrl('http://127.0.0.1:8080/hook', true)).toBeInstanceOf(URL);
    expect(checkWebhookUrl('http://localhost/', true)).toBeInstanceOf(URL);
    expect(checkWebhookUrl('ftp://127.0.0.1/', true)).toMatch(/only http/);
  });
});
