/**
 * TLS-RPT reports addressed to TLSRPT_RECEIVE_ADDRESS (RFC 8460 §5.3) are stored in
 * PostgreSQL instead of filed; everything else goes to the Maildir. The report mails are
 * written by Python's email package (gzip and json parts, as Google and Microsoft send them).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgPool } from '@mta/db';
import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from '@mta/testing';
import { TlsReportIngestAgent } from './local/tls-report-agent';
import { MaildirDeliveryAgent } from './local/maildir-agent';
import { message, request } from './test/fixtures';

const REPORT = {
  'organization-name': 'Google Inc.',
  'date-range': { 'start-datetime': '2026-12-06T00:00:00Z', 'end-datetime': '2026-12-06T23:59:59Z' },
  'contact-info': 'smtp-tls-reporting@google.com',
  'report-id': '2026-12-06T00:00:00Z_example.org',
  policies: [
    {
      policy: {
        'policy-type': 'sts',
        'policy-string': ['version: STSv1', 'mode: testing'],
        'policy-domain': 'Example.org',
        'mx-host': ['mx.example.org'],
      },
      summary: { 'total-successful-session-count': 41, 'total-failure-session-count': 2 },
      'failure-details': [
        {
          'result-type': 'certificate-expired',
          'receiving-mx-hostname': 'mx.example.org',
          'failed-session-count': 2,
        },
      ],
    },
  ],
};

/** A report mail as Python's email package writes it, with the report gzipped or as JSON. */
async function pythonReportMail(report: object, kind: 'gzip' | 'json'): Promise<Buffer> {
  const script = `
import email.message, email.policy, gzip, json, sys
report = json.loads(sys.argv[1])
m = email.message.EmailMessage(policy=email.policy.SMTP)
m['From'] = 'noreply-smtp-tls-reporting@google.com'
m['To'] = 'tlsrpt@example.org'
m['Subject'] = 'Report Domain: example.org Submitter: google.com Report-ID: <x>'
m['TLS-Report-Domain'] = 'example.org'
m['TLS-Report-Submitter'] = 'google.com'
m.set_content('This is an aggregate TLS report from google.com')
data = json.dumps(report).encode()
if sys.argv[2] == 'gzip':
    m.add_attachment(gzip.compress(data), maintype='application', subtype='tlsrpt+gzip', filename='google.com!example.org!1!2.json.gz')
else:
    m.add_attachment(data, maintype='application', subtype='tlsrpt+json', filename='google.com!example.org!1!2.json')
m.replace_header('Content-Type', m['Content-Type'].replace('multipart/mixed', 'multipart/report; report-type="tlsrpt"'))
sys.stdout.buffer.write(m.as_bytes())`;
  const { stdout } = await promisify(execFile)('python3', ['-c', script, JSON.stringify(report), kind], {
    encoding: 'buffer',
  });
  return stdout;
}

describe('TLS-RPT reports to TLSRPT_RECEIVE_ADDRESS', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let root: string;
  let agent: TlsReportIngestAgent;
  const filed = (user: string): string[] => {
    try {
      return readdirSync(path.join(root, 'example.org', user, 'Maildir', 'new'));
    } catch {
      return [];
    }
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = createPgPool(database.url);
    root = mkdtempSync(path.join(tmpdir(), 'tlsrpt-'));
    agent = new TlsReportIngestAgent(new MaildirDeliveryAgent({ root }), pool, 'TLSRPT@example.org');
  }, 60_000);
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
    rmSync(root, { recursive: true, force: true });
  });

  it('stores a gzip report once, files nothing, and a second copy is not stored again', async () => {
    const mail = await pythonReportMail(REPORT, 'gzip');
    const first = await agent.deliver(request(['tlsrpt@example.org'], mail));
    expect(first.results[0]).toMatchObject({ kind: 'delivered', text: 'TLS report stored' });
    const again = await agent.deliver(request(['tlsrpt@example.org'], mail));
    expect(again.results[0]).toMatchObject({ kind: 'delivered', text: 'TLS report already stored' });
    const { rows } = await pool.query('SELECT * FROM tls_reports');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      organization: 'Google Inc.',
      report_id: REPORT['report-id'],
      policy_domains: ['example.org'],
      successful_sessions: 41,
      failed_sessions: 2,
    });
    expect(rows[0].report.policies[0]['failure-details'][0]['result-type']).toBe('certificate-expired');
    expect(filed('tlsrpt')).toEqual([]);
  });

  it('takes application/tlsrpt+json too, and files the copy for another recipient', async () => {
    const mail = await pythonReportMail({ ...REPORT, 'report-id': 'json-1' }, 'json');
    const report = await agent.deliver(request(['tlsrpt@example.org', 'alice@example.org'], mail));
    expect(report.results.map((r) => r.kind)).toEqual(['delivered', 'delivered']);
    expect(filed('alice')).toHaveLength(1);
    expect((await pool.query(`SELECT 1 FROM tls_reports WHERE report_id = 'json-1'`)).rowCount).toBe(1);
  });

  it('files mail to the address that is not a readable report: plain mail, broken JSON, a wrong shape', async () => {
    const broken = await pythonReportMail({ 'organization-name': 'x' }, 'json');
    for (const mail of [message('just mail'), broken]) {
      const r = await agent.deliver(request(['tlsrpt@example.org'], mail));
      expect(r.results[0].kind).toBe('delivered');
    }
    expect(filed('tlsrpt')).toHaveLength(2);
  });
});
