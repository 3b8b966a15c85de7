import { parsePolicy } from 'mailauth/lib/mta-sts';
import { describe, expect, it } from 'vitest';
import { mtaStsPolicyId, mtaStsPolicyText } from './publish';

describe('the MTA-STS policy we publish (RFC 8461 §3.2)', () => {
  it('parses as RFC 8461 in mailauth strict mode, with our MX first and no duplicates', () => {
    const text = mtaStsPolicyText({
      mode: 'enforce',
      mx: ['mx.example.org', 'MX.example.org', '*.backup.example'],
    });
    expect(parsePolicy(text, { strict: true })).toEqual({
      mode: 'enforce',
      version: 'STSv1',
      mx: ['mx.example.org', '*.backup.example'],
      maxAge: 604800,
    });
    expect(
      parsePolicy(mtaStsPolicyText({ mode: 'testing', mx: ['mx.example.org'] }), { strict: true }).maxAge,
    ).toBe(86400);
    expect(parsePolicy(mtaStsPolicyText({ mode: 'none', mx: ['mx.example.org'] }), { strict: true })).toEqual(
      {
        mode: 'none',
        version: 'STSv1',
        maxAge: 86400,
      },
    );
  });

  it('has an id that changes exactly when the policy does', () => {
    const a = mtaStsPolicyText({ mode: 'testing', mx: ['mx.example.org'] });
    const b = mtaStsPolicyText({ mode: 'enforce', mx: ['mx.example.org'] });
    expect(mtaStsPolicyId(a)).toMatch(/^[0-9a-f]{20}$/);
    expect(mtaStsPolicyId(a)).toBe(
      mtaStsPolicyId(mtaStsPolicyText({ mode: 'testing', mx: ['MX.example.org'] })),
    );
    expect(mtaStsPolicyId(a)).not.toBe(mtaStsPolicyId(b));
  });
});
