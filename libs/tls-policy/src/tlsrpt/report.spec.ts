import { describe, expect, it } from 'vitest';
import { msUntilNextRun } from './daily';
import { buildReport, parseTlsRptRecord, reportFileName } from './report';

describe('TLS-RPT record (RFC 8460 §3)', () => {
  it.each([
    [['v=TLSRPTv1; rua=mailto:a@example.org'], ['mailto:a@example.org']],
    [
      ['v=TLSRPTv1;rua=mailto:a@example.org,https://r.example.org/v1'],
      ['mailto:a@example.org', 'https://r.example.org/v1'],
    ],
    [['v=TLSRPTv1; rua=http://insecure.example.org, mailto:b@example.org'], ['mailto:b@example.org']],
    [['v=spf1 -all'], null],
    [['v=TLSRPTv1; rua=mailto:a@example.org', 'v=TLSRPTv1; rua=mailto:b@example.org'], null],
    [['v=TLSRPTv1; rua=ftp://x'], null],
    [['v=TLSRPTv1'], null],
  ])('%j → %j', (records, rua) => expect(parseTlsRptRecord(records)).toEqual(rua));
});

describe('the report (RFC 8460 §4.4)', () => {
  it('covers the UTC day, sums the failures, and names its file as §5.1 says', () => {
    const report = buildReport({
      organization: 'example.net',
      contact: 'postmaster@example.net',
      day: '2026-12-06',
      reportId: 'r1',
      results: [
        {
          policy: { 'policy-type': 'sts', 'policy-domain': 'example.org' },
          successes: 5,
          failures: [
            { 'result-type': 'starttls-not-supported', count: 2 },
            { 'result-type': 'certificate-expired', count: 1 },
          ],
        },
      ],
    });
    expect(report['date-range']).toEqual({
      'start-datetime': '2026-12-06T00:00:00Z',
      'end-datetime': '2026-12-06T23:59:59Z',
    });
    expect(report.policies[0]).toMatchObject({
      summary: { 'total-successful-session-count': 5, 'total-failure-session-count': 3 },
      'failure-details': [
        { 'result-type': 'starttls-not-supported', 'failed-session-count': 2 },
        { 'result-type': 'certificate-expired', 'failed-session-count': 1 },
      ],
    });
    expect(reportFileName('example.net', 'example.org', report)).toBe(
      'example.net!example.org!1796515200!1796601599.json.gz',
    );
  });

  it('runs at 00:10 UTC', () => {
    expect(msUntilNextRun(new Date('2026-12-07T00:00:00Z'))).toBe(600_000);
    expect(msUntilNextRun(new Date('2026-12-07T00:10:00Z'))).toBe(86_400_000);
    expect(msUntilNextRun(new Date('2026-12-07T23:10:00Z'))).toBe(3_600_000);
  });
});
