import { describe, expect, it } from 'vitest';
import type { TlsFacts } from '@mta/smtp-client';
import { classify } from './mta-sts/mta-sts';
import type { MtaStsPolicies } from './mta-sts/mta-sts';
import { certificateFailure, OutboundTlsPolicy } from './plan';

const stub = (mode: 'enforce' | 'testing' | 'none', mx: string[]): Pick<MtaStsPolicies, 'lookup'> => ({
  lookup: async () => ({
    source: 'cached',
    policy: { id: '1', mode, mx, maxAge: 86400, expires: new Date(Date.now() + 1e6).toISOString() },
  }),
});

const facts = (authorized: boolean, authorizationError: string | null = null): TlsFacts => ({
  protocol: 'TLSv1.3',
  cipher: 'TLS_AES_256_GCM_SHA384',
  servername: 'mx.example.org',
  authorized,
  authorizationError,
  peerSubject: null,
  peerIssuer: null,
  peerFingerprint256: null,
});

describe('OutboundTlsPolicy.plan', () => {
  it('enforce: only matching MX hosts (one wildcard label), with verified TLS', async () => {
    const plan = await new OutboundTlsPolicy({ mtaSts: stub('enforce', ['*.example.org']) }).plan(
      'example.org',
    );
    expect(plan).toMatchObject({ label: 'mta-sts', authenticated: true });
    expect(plan.host('mx1.example.org')).toMatchObject({ allowed: true, tls: 'required-verify' });
    expect(plan.host('a.b.example.org').allowed).toBe(false);
    expect(plan.host('example.org').allowed).toBe(false);
    expect(plan.host('mx.example.net')).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/not in the MTA-STS policy/),
    });
  });

  it('testing: every MX, opportunistic TLS, and a verdict for TLS-RPT', async () => {
    const plan = await new OutboundTlsPolicy({ mtaSts: stub('testing', ['mx.example.org']) }).plan(
      'example.org',
    );
    expect(plan.host('mx.example.net')).toMatchObject({
      allowed: true,
      tls: 'opportunistic',
      label: 'mta-sts-testing',
    });
    expect(plan.judge('mx.example.org', facts(true))).toEqual({ ok: true });
    expect(plan.judge('mx.example.org', null)).toEqual({ ok: false, failure: 'starttls-not-supported' });
    expect(plan.judge('mx.example.net', facts(true))).toEqual({ ok: false, failure: 'validation-failure' });
    expect(plan.judge('mx.example.org', facts(false, 'DEPTH_ZERO_SELF_SIGNED_CERT'))).toEqual({
      ok: false,
      failure: 'certificate-not-trusted',
    });
  });

  it('none, no policy and address literals: opportunistic', async () => {
    for (const [mode, domain] of [
      ['none', 'example.org'],
      ['enforce', '[192.0.2.1]'],
    ] as const) {
      const plan = await new OutboundTlsPolicy({ mtaSts: stub(mode, ['mx.example.org']) }).plan(domain);
      expect(plan.label).toBe('opportunistic');
      expect(plan.host('anything.example')).toMatchObject({ allowed: true, tls: 'opportunistic' });
    }
    expect((await new OutboundTlsPolicy({}).plan('example.org')).label).toBe('opportunistic');
  });
});

describe('TLS-RPT result types (RFC 8460 §4.3.2)', () => {
  it.each([
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'certificate-host-mismatch'],
    ['CERT_HAS_EXPIRED', 'certificate-expired'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'certificate-not-trusted'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'certificate-not-trusted'],
    [null, 'validation-failure'],
  ])('certificate %s → %s', (code, type) => expect(certificateFailure(code)).toBe(type));

  it.each([
    ['invalid_sts_mode', 'sts-policy-invalid'],
    ['policy_too_large', 'sts-policy-invalid'],
    ['invalid_content_type', 'sts-policy-invalid'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'sts-webpki-invalid'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'sts-webpki-invalid'],
    ['http_status_404', 'sts-policy-fetch-error'],
    ['ECONNREFUSED', 'sts-policy-fetch-error'],
  ])('policy fetch %s → %s', (code, type) => expect(classify({ code })).toBe(type));
});
