import { mtaStsPolicyId, mtaStsPolicyText, type MtaStsMode } from '@mta/tls-policy';
import { dkimRecordText, splitTxt, zoneTxt, type DkimAlgorithm } from './dkim';

export interface DnsRecordInput {
  domain: string;
  type: 'local' | 'relay';
  /** This MTA's host name (MTA_HOSTNAME): the MX target and the SPF-authorised sender. */
  hostname: string;
  dkimKeys: { selector: string; algorithm: DkimAlgorithm; publicKey: string; active: boolean }[];
  /** The domain's MTA-STS settings (default: testing, no MX besides ours). */
  mtaSts?: MtaStsSettings;
}

export interface MtaStsSettings {
  readonly mode: MtaStsMode;
  /** MX host names allowed besides `hostname`. */
  readonly mx: readonly string[];
}

export interface DnsRecord {
  purpose: 'mx' | 'spf' | 'dkim' | 'dmarc' | 'mta-sts' | 'tls-rpt';
  name: string;
  type: 'MX' | 'TXT';
  ttl: number;
  value: string;
  note?: string;
}

const TTL = 3600;

/**
 * Every DNS record an operator should publish for a domain served by this MTA. Local
 * domains get MX, SPF, DKIM, DMARC and MTA-STS/TLS-RPT stubs; a relay domain only needs us as
 * a (backup) MX: the rest belongs to the domain's own mail servers.
 */
export function dnsRecords(input: DnsRecordInput): DnsRecord[] {
  const { domain, hostname } = input;
  const fqdn = (name: string) => `${name}.`;
  const txt = (text: string) => zoneTxt(splitTxt(text));
  if (input.type === 'relay') {
    return [
      {
        purpose: 'mx',
        name: fqdn(domain),
        type: 'MX',
        ttl: TTL,
        value: `20 ${fqdn(hostname)}`,
        note: 'We relay this domain to its own MX: keep its primary MX at a lower preference.',
      },
    ];
  }
  const records: DnsRecord[] = [
    { purpose: 'mx', name: fqdn(domain), type: 'MX', ttl: TTL, value: `10 ${fqdn(hostname)}` },
    {
      purpose: 'spf',
      name: fqdn(domain),
      type: 'TXT',
      ttl: TTL,
      value: txt(`v=spf1 mx a:${hostname} ~all`),
      note: 'Add any other hosts that send mail for this domain; change ~all to -all once you are sure.',
    },
  ];
  // Inactive keys too: a new key is published (and checked) before it is activated, and a
  // retired one stays published while mail it signed may still be verified.
  for (const key of input.dkimKeys) {
    records.push({
      purpose: 'dkim',
      name: fqdn(`${key.selector}._domainkey.${domain}`),
      type: 'TXT',
      ttl: TTL,
      value: zoneTxt(splitTxt(dkimRecordText(key.algorithm, key.publicKey))),
      ...(key.active
        ? {}
        : {
            note: `Key ${key.selector} does not sign: activate it once this record resolves, or delete it.`,
          }),
    });
  }
  records.push(
    {
      purpose: 'dmarc',
      name: fqdn(`_dmarc.${domain}`),
      type: 'TXT',
      ttl: TTL,
      value: txt(`v=DMARC1; p=none; rua=mailto:postmaster@${domain}; adkim=r; aspf=r`),
      note: 'Start with p=none and read the reports; then quarantine or reject.',
    },
    {
      purpose: 'mta-sts',
      name: fqdn(`_mta-sts.${domain}`),
      type: 'TXT',
      ttl: TTL,
      value: txt(`v=STSv1; id=${mtaStsPolicyId(mtaStsPolicy(hostname, input.mtaSts))}`),
      note: `Publish once https://mta-sts.${domain}/.well-known/mta-sts.txt reaches our admin API (it serves mtaStsPolicy there); the id changes with the policy.`,
    },
    {
      purpose: 'tls-rpt',
      name: fqdn(`_smtp._tls.${domain}`),
      type: 'TXT',
      ttl: TTL,
      value: txt(`v=TLSRPTv1; rua=mailto:postmaster@${domain}`),
    },
  );
  return records;
}

/** The MTA-STS policy file (RFC 8461 §3.2) of a domain: our MX first, in testing mode by default. */
export function mtaStsPolicy(
  hostname: string,
  settings: MtaStsSettings = { mode: 'testing', mx: [] },
): string {
  return mtaStsPolicyText({ mode: settings.mode, mx: [hostname, ...settings.mx] });
}

/** The records as zone file text, one per line, with comments for the notes. */
export function zoneText(records: DnsRecord[]): string {
  return records
    .map((r) => `${r.note ? `; ${r.note}\n` : ''}${r.name}\t${r.ttl}\tIN\t${r.type}\t${r.value}`)
    .join('\n')
    .concat('\n');
}
