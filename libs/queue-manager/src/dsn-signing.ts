import type { PrismaClient } from '@mta/db';
import type { Logger } from '@mta/observability';
import { dkimSignMessage, signingKeys, type DkimSigningKey } from '@mta/policy';

/**
 * The domains whose keys may sign the DSNs we write (From: MAILER-DAEMON@MTA_HOSTNAME): the
 * host name itself, then each parent down to two labels, nearest first. A key of a parent
 * (`example.org` for `mx.example.org`) is aligned with the From under DMARC's relaxed
 * alignment (RFC 7489 §3.1.1); only domains we host have keys, so a public suffix never signs.
 */
export function dsnSigningDomains(hostname: string): string[] {
  const labels = hostname.toLowerCase().replace(/\.$/, '').split('.');
  const out: string[] = [];
  for (let i = 0; i <= labels.length - 2; i++) out.push(labels.slice(i).join('.'));
  return out;
}

/** The keys of the nearest of those domains with an active key (newest of each algorithm). */
export async function dsnSigningKeys(db: PrismaClient, hostname: string): Promise<DkimSigningKey[]> {
  const names = dsnSigningDomains(hostname);
  if (names.length === 0) return [];
  const rows = await db.dkimKey.findMany({
    where: { active: true, domain: { name: { in: names } } },
    select: {
      selector: true,
      algorithm: true,
      privateKey: true,
      active: true,
      createdAt: true,
      domain: { select: { name: true } },
    },
  });
  for (const name of names) {
    const keys = signingKeys(
      name,
      rows.filter((r) => r.domain.name === name),
    );
    if (keys.length > 0) return keys;
  }
  return [];
}

/**
 * The DSN with DKIM-Signature fields in front (RFC 6376 §5.6), or as it is when no key
 * applies. A key that fails to sign is logged by selector and the DSN goes without it.
 */
export async function signDsn(
  ctx: { db: PrismaClient; hostname: string },
  content: Buffer,
  log: Logger,
): Promise<Buffer> {
  const keys = await dsnSigningKeys(ctx.db, ctx.hostname);
  if (keys.length === 0) return content;
  const { signatures, failures } = await dkimSignMessage(content, keys);
  for (const failure of failures) log.error(failure, 'DKIM signing of a DSN failed');
  return signatures.length > 0 ? Buffer.concat([Buffer.from(signatures.join('')), content]) : content;
}
