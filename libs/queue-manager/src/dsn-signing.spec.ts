import { describe, expect, it } from 'vitest';
import { dsnSigningDomains } from './dsn-signing';

describe('dsnSigningDomains', () => {
  it('is the host name, then its parents down to two labels', () => {
    expect(dsnSigningDomains('MX1.Mail.Example.org.')).toEqual([
      'mx1.mail.example.org',
      'mail.example.org',
      'example.org',
    ]);
    expect(dsnSigningDomains('example.org')).toEqual(['example.org']);
    expect(dsnSigningDomains('localhost')).toEqual([]);
  });
});
