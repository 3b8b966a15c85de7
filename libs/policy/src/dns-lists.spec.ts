import { describe, expect, it } from 'vitest';
import { expandIpv6, listQueryName } from './dns-lists';

describe('DNS list query names (RFC 5782)', () => {
  it('reverses the octets of an IPv4 address (§2.1)', () => {
    expect(listQueryName('192.0.2.99', 'bl.example')).toBe('99.2.0.192.bl.example');
    expect(listQueryName('127.0.0.1', 'bl.example')).toBe('1.0.0.127.bl.example');
    expect(listQueryName('::ffff:192.0.2.99', 'bl.example')).toBe('99.2.0.192.bl.example');
  });

  it('writes an IPv6 address as 32 reversed nibbles (§2.4)', () => {
    // The example of RFC 5782 §2.4.
    expect(listQueryName('2001:db8:1:2:3:4:567:89ab', 'ugly.example.com')).toBe(
      'b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example.com',
    );
    expect(expandIpv6('::1')).toBe(`${'0'.repeat(31)}1`);
    expect(expandIpv6('2001:db8::')).toBe(`20010db8${'0'.repeat(24)}`);
    expect(expandIpv6('64:ff9b::192.0.2.1')).toBe(`0064ff9b${'0'.repeat(16)}c0000201`);
  });

  it('refuses what is not an address', () => {
    expect(listQueryName('not-an-ip', 'bl.example')).toBeNull();
  });
});
