import { createHash, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TlsaRecord } from '@mta/dns';
import { createTestCa, selfSignedCertificate, type TestCa } from '@mta/testing';
import { daneVerify, usableTlsa } from './verify';

const der = (pem: string): Buffer => new X509Certificate(pem).raw;
const spki = (pem: string): Buffer =>
  new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
const hash = (alg: 'sha256' | 'sha512', b: Buffer): Buffer => createHash(alg).update(b).digest();
const tlsa = (usage: number, selector: number, matchingType: number, data: Buffer): TlsaRecord => ({
  usage,
  selector,
  matchingType,
  data,
});

describe('daneVerify (RFC 7672 §3)', () => {
  let ca: TestCa;
  let leaf: { cert: string; chain: string };
  let self: { cert: string };
  beforeAll(async () => {
    ca = createTestCa();
    leaf = ca.issue(['mx.example.org']);
    self = await selfSignedCertificate(['whatever.example']);
  });
  afterAll(() => ca?.close());

  it('DANE-EE matches the certificate or its key, exactly or by SHA-256/512, whatever its name', () => {
    const chain = [der(self.cert)];
    for (const r of [
      tlsa(3, 0, 0, der(self.cert)),
      tlsa(3, 0, 1, hash('sha256', der(self.cert))),
      tlsa(3, 1, 1, hash('sha256', spki(self.cert))),
      tlsa(3, 1, 2, hash('sha512', spki(self.cert))),
    ])
      expect(daneVerify([r], chain, 'mx.example.org')).toBeNull();
    expect(daneVerify([tlsa(3, 1, 1, Buffer.alloc(32))], chain, 'mx.example.org')).toMatch(
      /no TLSA record matches/,
    );
  });

  it('DANE-TA needs the anchor in the chain, a chain that verifies up to it, and the MX name', () => {
    const chain = [der(leaf.cert), der(ca.cert)];
    const anchor = tlsa(2, 0, 1, hash('sha256', der(ca.cert)));
    expect(daneVerify([anchor], chain, 'mx.example.org')).toBeNull();
    expect(daneVerify([anchor], chain, 'mx2.example.org')).toMatch(/does not name mx2\.example\.org/);
    expect(daneVerify([anchor], [der(leaf.cert)], 'mx.example.org')).toMatch(/no TLSA record matches/);
    const other = createTestCa('Other');
    try {
      const foreign = [der(other.issue(['mx.example.org']).cert), der(ca.cert)];
      expect(daneVerify([anchor], foreign, 'mx.example.org')).toMatch(/does not verify/);
    } finally {
      other.close();
    }
  });

  it('ignores the usages SMTP cannot use (PKIX-TA/EE, RFC 7672 §3.1.3)', () => {
    expect(usableTlsa(tlsa(1, 1, 1, Buffer.alloc(32)))).toBe(false);
    expect(usableTlsa(tlsa(3, 2, 1, Buffer.alloc(32)))).toBe(false);
    expect(daneVerify([tlsa(1, 0, 0, der(self.cert))], [der(self.cert)], 'x')).toMatch(
      /no TLSA record matches/,
    );
  });
});
