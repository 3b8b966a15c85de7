import { describe, expect, it } from 'vitest';
import { badFields, useAdminApi } from './harness';

const api = useAdminApi();

describe('TLS-RPT reports received (GET /api/v1/tls-reports)', () => {
  it('lists them newest first, filters by policy domain, and shows one with its JSON', async () => {
    const row = (id: string, domains: string[], receivedAt: string) =>
      api.db.tlsReport.create({
        data: {
          organization: 'Google Inc.',
          reportId: id,
          contactInfo: 'smtp-tls-reporting@google.com',
          startAt: new Date('2026-12-06T00:00:00Z'),
          endAt: new Date('2026-12-06T23:59:59Z'),
          policyDomains: domains,
          successfulSessions: 41,
          failedSessions: 2,
          receivedAt: new Date(receivedAt),
          report: { 'report-id': id, policies: [] },
        },
      });
    const older = await row('r1', ['example.org'], '2026-12-07T01:00:00Z');
    await row('r2', ['example.net'], '2026-12-07T02:00:00Z');
    const list = await api.request('GET', '/api/v1/tls-reports');
    expect(list.status).toBe(200);
    expect(list.body.items.map((r: { reportId: string }) => r.reportId)).toEqual(['r2', 'r1']);
    const filtered = await api.request('GET', '/api/v1/tls-reports?domain=example.org');
    expect(filtered.body.items).toEqual([
      expect.objectContaining({ reportId: 'r1', policyDomains: ['example.org'], failedSessions: 2 }),
    ]);
    const one = await api.request('GET', `/api/v1/tls-reports/${older.id}`);
    expect(one.body).toMatchObject({ organization: 'Google Inc.', report: { 'report-id': 'r1' } });
    expect(
      (await api.request('GET', '/api/v1/tls-reports/00000000-0000-4000-8000-000000000000')).status,
    ).toBe(404);
    expect(badFields(await api.request('GET', '/api/v1/tls-reports/nope'))).toEqual(['id']);
    expect((await api.request('GET', '/api/v1/tls-reports', { token: null })).status).toBe(401);
  });
});
