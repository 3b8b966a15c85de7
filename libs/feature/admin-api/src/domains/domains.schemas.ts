import { z } from 'zod';
import { DomainName } from '../common/names';

export const DomainType = z
  .enum(['local', 'relay'])
  .describe('`local`: we host its mailboxes; `relay`: we pass its mail on to its own MX.');

const DmarcEnforce = z
  .boolean()
  .describe(
    'Apply the DMARC policy of the sender (p=reject: 550 5.7.1, p=quarantine: Junk folder) to mail for this domain on port 25. `false`: such mail is accepted and only tagged in Authentication-Results. A message to several domains is enforced unless all of them turned it off.',
  );

const Greylisting = z
  .boolean()
  .nullable()
  .describe(
    'Greylist mail for this domain on port 25: a new (client /24 or /64, sender, recipient) triplet gets 451 4.7.1 at RCPT until it retries after GREYLIST_DELAY_S. null: the GREYLISTING setting. Takes effect within 5 s.',
  );

/** Extra MX host names an MTA-STS policy may allow. */
export const MAX_MTA_STS_MX = 10;

const MtaSts = z
  .strictObject({
    mode: z
      .enum(['none', 'testing', 'enforce'])
      .describe(
        '`testing`: senders deliver as before and report problems (TLS-RPT); `enforce`: senders that honour MTA-STS deliver only to the listed MX hosts over validated TLS; `none`: withdraw the policy (RFC 8461 §8.3).',
      ),
    mx: z
      .array(
        z
          .string()
          .max(253)
          .regex(
            /^(\*\.)?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/,
            'expected a host name such as mx2.example.org or *.example.org',
          ),
      )
      .max(MAX_MTA_STS_MX)
      .describe('MX host names the policy allows besides MTA_HOSTNAME (a backup MX); `*.` covers one label.'),
  })
  .describe(
    'The MTA-STS policy (RFC 8461) served at https://mta-sts.<domain>/.well-known/mta-sts.txt by this API; its id in the `_mta-sts` TXT record (GET .../dns) changes whenever it does.',
  );

export const CreateDomain = z
  .strictObject({
    name: DomainName,
    type: DomainType.default('local'),
    acceptAll: z.boolean().default(false).describe('Catch-all: accept any local part (local domains only).'),
    dmarcEnforce: DmarcEnforce.default(true),
    greylisting: Greylisting.default(null),
    mtaSts: MtaSts.default({ mode: 'testing', mx: [] }),
  })
  .refine((d) => !(d.acceptAll && d.type === 'relay'), {
    path: ['acceptAll'],
    message: 'only local domains can accept all',
  });
export type CreateDomain = z.output<typeof CreateDomain>;

export const UpdateDomain = z.strictObject({
  type: DomainType.optional(),
  acceptAll: z.boolean().optional(),
  dmarcEnforce: DmarcEnforce.optional(),
  greylisting: Greylisting.optional(),
  mtaSts: MtaSts.optional(),
});
export type UpdateDomain = z.output<typeof UpdateDomain>;

export const DomainParam = z.object({ name: DomainName });

export const DomainView = z.object({
  id: z.uuid(),
  name: z.string(),
  type: DomainType,
  acceptAll: z.boolean(),
  dmarcEnforce: DmarcEnforce,
  greylisting: Greylisting,
  mtaSts: MtaSts,
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export const CreateDkimKey = z.strictObject({
  algorithm: z
    .enum(['rsa', 'ed25519'])
    .default('rsa')
    .describe('`rsa` (2048 bits, rsa-sha256) or `ed25519` (RFC 8463).'),
  selector: z
    .string()
    .regex(
      /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/,
      'expected a DNS label such as mail2026',
    )
    .max(63)
    .optional()
    .describe('Generated (`mta<yyyymm><random>`) when omitted.'),
  active: z
    .boolean()
    .default(true)
    .describe(
      'Whether it signs at once. For a rotation create it inactive, publish its record, check it with `GET /dns/check`, then activate it.',
    ),
});
export type CreateDkimKey = z.output<typeof CreateDkimKey>;

export const DkimKeyView = z.object({
  id: z.uuid(),
  selector: z.string(),
  algorithm: z.enum(['rsa', 'ed25519']),
  active: z.boolean(),
  createdAt: z.iso.datetime(),
  dnsName: z.string().describe('Where to publish the TXT record, e.g. `mta202611a._domainkey.example.com`.'),
  txt: z.array(z.string()).describe('The TXT record as strings of at most 255 characters.'),
  record: z.string().describe('The record as a zone file line.'),
});

export const UpdateDkimKey = z.strictObject({
  active: z
    .boolean()
    .describe('Sign with this key. Of the active keys of one algorithm the newest (by creation) signs.'),
});
export type UpdateDkimKey = z.output<typeof UpdateDkimKey>;

export const DkimParam = z.object({ name: DomainName, selector: z.string().max(63) });

export const DnsRecord = z.object({
  purpose: z.enum(['mx', 'spf', 'dkim', 'dmarc', 'mta-sts', 'tls-rpt']),
  name: z.string(),
  type: z.enum(['MX', 'TXT']),
  ttl: z.number().int(),
  value: z.string().describe('The record data as it appears in a zone file.'),
  note: z.string().optional(),
});

export const DnsView = z.object({
  domain: z.string(),
  records: z.array(DnsRecord),
  zone: z.string().describe('Every record as zone file text, ready to paste.'),
  mtaStsPolicy: z
    .string()
    .describe('To serve at https://mta-sts.<domain>/.well-known/mta-sts.txt before publishing _mta-sts.'),
});

export const RecordCheck = z.object({
  purpose: z.enum(['mx', 'spf', 'dkim', 'dmarc']),
  name: z.string(),
  type: z.enum(['MX', 'TXT']),
  selector: z.string().optional().describe('DKIM: the key checked.'),
  active: z.boolean().optional().describe('DKIM: whether that key signs.'),
  status: z
    .enum(['match', 'mismatch', 'missing', 'error'])
    .describe(
      '`match`: published as `GET /dns` says; `missing`: no such record; `error`: the lookup failed.',
    ),
  found: z.array(z.string()).describe('What the DNS answered (TXT strings joined).'),
  detail: z.string(),
});

export const DnsCheckView = z.object({
  domain: z.string(),
  ok: z.boolean().describe('Every record matches.'),
  records: z.array(RecordCheck),
});
