import { describe, expect, it } from 'vitest';
import { dnsRecords, mtaStsPolicy, zoneText } from './dns-records';

describe('dnsRecords', () => {
  const key = { selector: 's1', algorithm: 'ed25519' as const, publicKey: 'KEY', active: true };

  it('gives a local domain MX, SPF, DKIM, DMARC, MTA-STS and TLS-RPT', () => {
    const records = dnsRecords({
      domain: 'example.org',
      type: 'local',
      hostname: 'mx.example.net',
      dkimKeys: [key],
    });
    expect(records.map((r) => `${r.purpose} ${r.name} ${r.type}`)).toEqual([
      'mx example.org. MX',
      'spf example.org. TXT',
      'dkim s1._domainkey.example.org. TXT',
      'dmarc _dmarc.example.org. TXT',
      'mta-sts _mta-sts.example.org. TXT',
      'tls-rpt _smtp._tls.example.org. TXT',
    ]);
    expect(records[0].value).toBe('10 mx.example.net.');
    expect(records[2].value).toBe('"v=DKIM1; k=ed25519; p=KEY"');
  });

  it('lists inactive DKIM keys with a note (published before activation), and keeps the MTA-STS id stable', () => {
    const a = dnsRecords({
      domain: 'example.org',
      type: 'local',
      hostname: 'mx.example.net',
      dkimKeys: [{ ...key, active: false }],
    });
    const b = dnsRecords({ domain: 'example.org', type: 'local', hostname: 'mx.example.net', dkimKeys: [] });
    expect(a.filter((r) => r.purpose === 'dkim').map((r) => r.note)).toEqual([
      'Key s1 does not sign: activate it once this record resolves, or delete it.',
    ]);
    expect(a.find((r) => r.purpose === 'mta-sts')?.value).toBe(b.find((r) => r.purpose === 'mta-sts')?.value);
  });

  it('gives a relay domain only a backup MX', () => {
    const records = dnsRecords({
      domain: 'relay.example',
      type: 'relay',
      hostname: 'mx.example.net',
      dkimKeys: [key],
    });
    expect(records.map((r) => r.purpose)).toEqual(['mx']);
  });

  it('renders zone text with notes as comments, and the MTA-STS policy file', () => {
    const zone = zoneText(
      dnsRecords({ domain: 'example.org', type: 'local', hostname: 'mx.example.net', dkimKeys: [] }),
    );
    expect(zone.split('\n')[0]).toBe('example.org.\t3600\tIN\tMX\t10 mx.example.net.');
    expect(zone).toMatch(/^; .*-all/m);
    expect(mtaStsPolicy('mx.example.net')).toBe(
      'version: STSv1\r\nmode: testing\r\nmx: mx.example.net\r\nmax_age: 86400\r\n',
    );
    expect(mtaStsPolicy('mx.example.net', { mode: 'enforce', mx: ['mx2.example.org'] })).toBe(
      'version: STSv1\r\nmode: enforce\r\nmx: mx.example.net\r\nmx: mx2.example.org\r\nmax_age: 604800\r\n',
    );
  });

  it('changes the MTA-STS id when the policy changes (mode or MX)', () => {
    const id = (mtaSts?: { mode: 'testing' | 'enforce'; mx: string[] }) =>
      dnsRecords({
        domain: 'example.org',
        type: 'local',
        hostname: 'mx.example.net',
        dkimKeys: [],
        mtaSts,
      }).find((r) => r.purpose === 'mta-sts')?.value;
    expect(id()).toBe(id({ mode: 'testing', mx: [] }));
    expect(id({ mode: 'enforce', mx: [] })).not.toBe(id());
    expect(id({ mode: 'testing', mx: ['mx2.example.org'] })).not.toBe(id());
  });
});
